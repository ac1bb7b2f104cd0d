"""``liveevents transform``: raw Canvas live events (JSON or JSON Lines) → Canvas or Caliper JSON Lines.

Each input is a file (or ``-``/nothing for stdin) holding one JSON record, a JSON array of records,
or JSON Lines (``liveevents.cli.inputs`` decides which). A bad record is reported on stderr with
its file, line (or array item) and reason, and the run goes on; the exit status is 1 if any
record failed.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

import click
import orjson

from liveevents.caliper.envelope import CaliperTransformer
from liveevents.caliper.registry import UnmappedEventError
from liveevents.canvas.message import canvas_message
from liveevents.canvas.record import RecordError, parse_record
from liveevents.cli.inputs import INPUT_RULE, PlainJson, read_items
from liveevents.timestamps import TimestampError, parse_timestamp

__all__ = ["transform"]

#: Inputs at least this big get a progress bar (when stderr is a terminal).
PROGRESS_THRESHOLD = 1 << 20


def _sizes(paths: tuple[str, ...]) -> int | None:
    """The total size of the inputs; None when one is unknown (stdin from a pipe or a terminal)."""
    try:
        sizes = [_stdin_size() if path == "-" else os.path.getsize(path) for path in paths]
    except (OSError, ValueError):  # ValueError: stdin closed
        return None
    return None if None in sizes else sum(size for size in sizes if size is not None)


def _stdin_size() -> int | None:
    """The size of stdin when it is a file (``< events.jsonl``): as big an input as a named one."""
    status = os.fstat(sys.stdin.fileno())
    return status.st_size if stat.S_ISREG(status.st_mode) else None


class _Timestamp(click.ParamType):
    """A time read as the service reads event times, so that an error states the rule with an
    example (click's DateTime lists strptime patterns such as '%Y-%m-%dT%H:%M:%S%z')."""

    name = "timestamp"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_timestamp(value)
        except TimestampError as error:
            self.fail(f"{value!r}: {error.rule}", param, ctx)


@click.command(help=f"Transform raw Canvas live events from INPUT files (stdin when none) into JSON Lines.\n\n{INPUT_RULE}")
@click.option("--format", "output_format", type=click.Choice(["caliper", "canvas"]), default="caliper", show_default=True,
              help="Caliper 1.1 envelopes (32 mapped event types) or Instructure's Canvas format (every event type).")
@click.option("--output", "-o", type=click.File("wb"), default="-", help="Write JSON Lines here instead of stdout.")
@click.option("--profile", type=click.Choice(["canvas", "strict"]), default="canvas", show_default=True,
              help="caliper: reproduce Instructure exactly, or follow Caliper where the docs contradict it.")
@click.option("--canvas-domain", metavar="HOST", help="caliper: the Canvas host named as sensor of job events.")
@click.option("--send-time", type=_Timestamp(),
              help="caliper: a fixed sendTime (e.g. 2024-09-16T14:05:09.031+00:00); default: now.")
@click.option("--keep-tokens", is_flag=True, help="Do not blank access_token values in URLs.")
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def transform(
    output_format: str,
    output: IO[bytes],
    profile: str,
    canvas_domain: str | None,
    send_time: datetime | None,
    keep_tokens: bool,
    inputs: tuple[str, ...],
) -> None:
    try:
        render = _renderer(output_format, profile, canvas_domain, send_time, not keep_tokens)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    paths = inputs or ("-",)
    total = _sizes(paths)
    progress = _Progress(total) if sys.stderr.isatty() and (total is None or total >= PROGRESS_THRESHOLD) else None
    done = failed = 0
    try:
        for path in paths:
            name = "<stdin>" if path == "-" else path
            with click.open_file(path, "rb") as stream:
                buffer: list[bytes] = []
                for item in read_items(stream, _JSON, progress.advance if progress else None):
                    reason = item.error
                    if reason is None:
                        try:
                            buffer.append(render(item.value))
                            done += 1
                        except RecordError as error:
                            reason = str(error)
                        except UnmappedEventError as error:
                            # The library says the Canvas format is available; here it has an option.
                            reason = f"{error} (--format canvas)"
                    if reason is not None:
                        failed += 1
                        click.echo(f"{name}: {item.where}: {reason}", err=True)
                    if len(buffer) >= 512:
                        output.write(b"\n".join(buffer) + b"\n")
                        buffer.clear()
                if buffer:
                    output.write(b"\n".join(buffer) + b"\n")
    finally:
        if progress:
            progress.stop()
    output.flush()
    if failed:
        click.echo(f"liveevents transform: {done} transformed, {failed} failed", err=True)
        sys.exit(1)


def _renderer(output_format: str, profile: str, canvas_domain: str | None, send_time: datetime | None, redact: bool) -> Callable[[Any], bytes]:
    """The output line (JSON bytes) of one decoded record."""
    if output_format == "canvas":
        return lambda value: orjson.dumps(canvas_message(parse_record(value), redact_tokens=redact))
    transformer = CaliperTransformer(profile=profile, canvas_domain=canvas_domain, redact_tokens=redact)  # type: ignore[arg-type]
    return lambda value: transformer.envelope_json(value, send_time)


_JSON = PlainJson()


class _Progress:
    """A Rich progress bar over the input bytes, on stderr.  ``total=None`` (input piped in, size
    unknown): a bar without an end, shown once the input has proved big (``PROGRESS_THRESHOLD``)."""

    def __init__(self, total: int | None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        self._bar = Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
            console=Console(stderr=True), transient=True,
        )  # fmt: skip
        self._task = self._bar.add_task("transforming", total=total)
        self._unseen = 0 if total is not None else PROGRESS_THRESHOLD  # bytes to read before showing it
        if not self._unseen:
            self._bar.start()

    def advance(self, size: int) -> None:
        self._bar.advance(self._task, size)
        if self._unseen > 0:
            self._unseen -= size
            if self._unseen <= 0:
                self._bar.start()

    def stop(self) -> None:
        self._bar.stop()

