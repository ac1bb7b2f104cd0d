"""``liveevents validate``: check Caliper 1.1 documents (envelopes, events, entities).

Each input is a file (or ``-``/nothing for stdin) holding JSON Lines (one document per line), one
JSON document, or a JSON array of documents.  Every document gets a report; the exit status is 0
only when every document is valid (warnings allowed), 1 otherwise (including unreadable input).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import click
import orjson

from liveevents.caliper.validation import Problem, is_valid, validate_caliper, validate_caliper_json
from liveevents.caliper.validation.jsontext import JsonTextError, decode

__all__ = ["validate"]


@dataclass(frozen=True, slots=True)
class _Report:
    """The findings for one document, or why an input could not be read (``unreadable``)."""

    source: str
    location: str | None  # "line 3", "item 2", "document"; None for an unreadable input
    problems: list[Problem] = field(default_factory=list)
    unreadable: str | None = None

    @property
    def valid(self) -> bool:
        return self.unreadable is None and is_valid(self.problems)

    def count(self, severity: str) -> int:
        return sum(problem.severity == severity for problem in self.problems)


def _documents(stream: BinaryIO, source: str, mode: str) -> Iterator[_Report]:
    """JSON Lines are read line by line; a file whose first line is not a JSON object by itself is
    read whole as one JSON document (or an array of documents)."""
    first = stream.readline()
    number = 1
    while first and not first.strip():
        first = stream.readline()
        number += 1
    try:
        probe = json.loads(first)
    except ValueError:
        probe = None
    if not isinstance(probe, dict):
        yield from _whole(first + stream.read(), source, mode)
        return
    yield _Report(source, f"line {number}", validate_caliper_json(first.rstrip(), mode=mode))
    for number, line in enumerate(stream, number + 1):
        if line.strip():
            yield _Report(source, f"line {number}", validate_caliper_json(line.rstrip(), mode=mode))


def _whole(data: bytes, source: str, mode: str) -> Iterator[_Report]:
    try:
        document, duplicates = decode(data)
    except JsonTextError as error:
        yield _Report(source, "document", [error.problem])
        return
    if not isinstance(document, list):
        yield _Report(source, "document", [*duplicates, *validate_caliper(document, mode=mode)])
        return
    for index, item in enumerate(document):
        prefix = f"/{index}"
        repeated = [
            Problem(problem.path[len(prefix):], problem.rule, problem.message, problem.severity)
            for problem in duplicates
            if problem.path == prefix or problem.path.startswith(prefix + "/")
        ]
        yield _Report(source, f"item {index + 1}", [*repeated, *validate_caliper(item, mode=mode)])


def _reports(paths: tuple[str, ...], mode: str) -> Iterator[_Report]:
    for path in paths:
        source = "<stdin>" if path == "-" else path
        try:
            stream = click.open_file(path, "rb")
        except OSError as error:
            yield _Report(source, None, unreadable=f"cannot read: {error.strerror or error}")
            continue
        with stream:
            try:
                yield from _documents(stream, source, mode)
            except OSError as error:
                yield _Report(source, None, unreadable=f"cannot read: {error.strerror or error}")


class _TextOutput:
    """A readable report per document (colours only on a terminal)."""

    def __init__(self) -> None:
        from rich.console import Console

        self._console = Console(highlight=False, soft_wrap=True)

    def write(self, report: _Report, mode: str) -> None:
        from rich.markup import escape

        where = escape(report.source if report.location is None else f"{report.source}: {report.location}")
        if report.unreadable is not None:
            self._console.print(f"[bold red]{where}: {escape(report.unreadable)}[/]")
            return
        errors, warnings = report.count("error"), report.count("warning")
        counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        if report.valid:
            self._console.print(f"[green]{where}: valid[/] ({mode} mode; {counts})")
        else:
            self._console.print(f"[bold red]{where}: INVALID[/] ({mode} mode; {counts})")
        for problem in report.problems:
            colour = "red" if problem.severity == "error" else "yellow"
            self._console.print(
                f"  [{colour}]{problem.severity:<7}[/] {escape(problem.path or '(document)')}  [dim]{problem.rule}[/]  {escape(problem.message)}"
            )

    def summary(self, documents: int, invalid: int) -> None:
        self._console.print(f"{documents} document{'s' * (documents != 1)} checked: {documents - invalid} valid, {invalid} invalid")


class _JsonOutput:
    """One JSON object per document, one per line."""

    def write(self, report: _Report, mode: str) -> None:
        record: dict[str, object] = {"input": report.source, "location": report.location, "mode": mode, "valid": report.valid}
        if report.unreadable is not None:
            record["error"] = report.unreadable
        else:
            record["errors"] = report.count("error")
            record["warnings"] = report.count("warning")
            record["problems"] = [problem.as_dict() for problem in report.problems]
        sys.stdout.buffer.write(orjson.dumps(record) + b"\n")

    def summary(self, documents: int, invalid: int) -> None:
        sys.stdout.flush()


@click.command()
@click.option("--mode", type=click.Choice(["strict", "canvas"]), default="strict", show_default=True,
              help="strict: Caliper 1.1 as written; canvas: Instructure's documented deviations become warnings.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="A readable report, or one JSON object per document.")
@click.argument("inputs", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
def validate(mode: str, output_format: str, inputs: tuple[str, ...]) -> None:
    """Validate Caliper 1.1 envelopes, events or entities in INPUT files (JSON or JSON Lines; stdin when none).

    Exits 0 when every document is valid (warnings allowed), 1 otherwise.
    """
    output = _JsonOutput() if output_format == "json" else _TextOutput()
    documents = invalid = 0
    for report in _reports(inputs or ("-",), mode):
        documents += 1
        invalid += not report.valid
        output.write(report, mode)
    output.summary(documents, invalid)
    sys.exit(1 if invalid or not documents else 0)
