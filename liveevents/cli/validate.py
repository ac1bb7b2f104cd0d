"""``liveevents validate``: check Caliper 1.1 documents (envelopes, events, entities).

Each input is a file (or ``-``/nothing for stdin) holding one JSON document, a JSON array of
documents, or JSON Lines (one document per line; ``liveevents.cli.inputs`` decides which).  Every document gets a report; the exit status is 0
only when every document is valid (warnings allowed), 1 otherwise (including unreadable input).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import click
import orjson

from liveevents.caliper.validation import Problem, is_valid, validate_caliper
from liveevents.caliper.validation.jsontext import JsonTextError, decode
from liveevents.cli.inputs import INPUT_RULE, InputSyntaxError, read_items

__all__ = ["validate"]


@dataclass(frozen=True, slots=True)
class _Report:
    """The findings for one document, or why an input could not be read (``unreadable``)."""

    source: str
    location: str | None  # "line 3", "item 2", "document"; None for an unreadable input
    problems: list[Problem] = field(default_factory=list)
    unreadable: str | None = None
    hint: str | None = None  # what to do instead, when the document is of another kind

    @property
    def valid(self) -> bool:
        return self.unreadable is None and is_valid(self.problems)

    def count(self, severity: str) -> int:
        return sum(problem.severity == severity for problem in self.problems)


@dataclass(frozen=True, slots=True)
class _Decoded:
    """A decoded document with the keys its text repeated (invisible in the decoded value)."""

    document: Any
    duplicates: list[Problem]


class _CaliperJson:
    """The validator's JSON decoding (it reports repeated keys), as the shared input reader needs it."""

    def decode(self, data: bytes | bytearray) -> _Decoded:
        try:
            return _Decoded(*decode(data))
        except JsonTextError as error:
            raise InputSyntaxError(error.reason, error.line, error.column) from None

    def elements(self, decoded: _Decoded) -> list[_Decoded] | None:
        if not isinstance(decoded.document, list):
            return None
        return [_Decoded(item, _under(decoded.duplicates, f"/{index}")) for index, item in enumerate(decoded.document)]


def _under(problems: list[Problem], prefix: str) -> list[Problem]:
    """The problems inside ``prefix``, with paths relative to it."""
    return [
        Problem(problem.path[len(prefix):], problem.rule, problem.message, problem.severity)
        for problem in problems
        if problem.path == prefix or problem.path.startswith(prefix + "/")
    ]


_JSON = _CaliperJson()

RAW_CANVAS_HINT = "this is a raw Canvas live event; run `liveevents transform` first"


def _hint(document: Any) -> str | None:
    """A hint for a raw Canvas record ({attributes, body} or {metadata, body}): the validator
    reports only the missing @context and type, which does not tell what the document is."""
    if isinstance(document, dict) and "body" in document and ("attributes" in document or "metadata" in document):
        return RAW_CANVAS_HINT
    return None


def _documents(stream: BinaryIO, source: str, mode: str) -> Iterator[_Report]:
    empty = True
    for item in read_items(stream, _JSON):
        empty = False
        if item.value is None:  # only a syntax error leaves no value (a JSON null is a _Decoded too)
            yield _Report(source, item.where, [Problem("", "json.syntax", item.error or "", "error")])
        else:
            document = item.value.document
            yield _Report(source, item.where, [*item.value.duplicates, *validate_caliper(document, mode=mode)], hint=_hint(document))
    if empty:
        yield _Report(source, None, unreadable="no JSON document: the input is empty")


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
        if report.hint is not None:
            self._console.print(f"  [bold]hint[/]    {escape(report.hint)}")

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
            if report.hint is not None:
                record["hint"] = report.hint
        sys.stdout.buffer.write(orjson.dumps(record) + b"\n")

    def summary(self, documents: int, invalid: int) -> None:
        sys.stdout.flush()


@click.command(
    help="Validate Caliper 1.1 envelopes, events or entities in INPUT files (stdin when none).\n\n"
    f"{INPUT_RULE}\n\nExits 0 when every document is valid (warnings allowed), 1 otherwise."
)
@click.option("--mode", type=click.Choice(["strict", "canvas"]), default="strict", show_default=True,
              help="strict: Caliper 1.1 as written; canvas: Instructure's documented deviations become warnings.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="A readable report, or one JSON object per document.")
@click.argument("inputs", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
def validate(mode: str, output_format: str, inputs: tuple[str, ...]) -> None:
    output = _JsonOutput() if output_format == "json" else _TextOutput()
    documents = invalid = 0
    for report in _reports(inputs or ("-",), mode):
        documents += 1
        invalid += not report.valid
        output.write(report, mode)
    output.summary(documents, invalid)
    sys.exit(1 if invalid or not documents else 0)
