"""The inputs of ``liveevents transform`` and ``liveevents validate``: one JSON document, or JSON Lines.

One rule decides, for every file or stdin (``INPUT_RULE`` states it for ``--help``): when the whole
input is one JSON document it gives its items; otherwise it is JSON Lines.  Deciding on line 1
alone loses records (a JSON Lines file whose line 1 is an array or is broken is not one document),
so the whole input is what counts.  Reading it whole is needed only when line 1 is not JSON on its
own: when it is, the input is one document exactly when nothing but blank lines follows (a JSON
value followed by more text never parses as one document), so JSON Lines are streamed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Generic, Protocol, TypeVar

import orjson

__all__ = ["INPUT_RULE", "Decoder", "InputSyntaxError", "Item", "PlainJson", "read_items"]

INPUT_RULE = (
    "An INPUT that is one JSON document (possibly over many lines) gives one item, or one per element "
    "when it is an array. Any other INPUT is JSON Lines: each non-blank line is one item, and a line that "
    "is not JSON is reported with its line number while the other lines are kept. An INPUT with no line "
    "that is JSON on its own is reported as one broken JSON document, naming the line and column of its error."
)

T = TypeVar("T")
_CHUNK = 1 << 20


class InputSyntaxError(ValueError):
    """The bytes given to a decoder are not JSON.

    ``line`` and ``column`` locate the error within those bytes, when the decoder knows them.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class Decoder(Protocol[T]):
    """How a command decodes JSON: ``decode`` raises ``InputSyntaxError``; ``elements`` gives the
    items of a decoded array, or ``None`` when the document is not an array."""

    def decode(self, data: bytes | bytearray) -> T: ...

    def elements(self, document: T) -> list[T] | None: ...


class PlainJson:
    """JSON decoded by orjson into plain Python values."""

    def decode(self, data: bytes | bytearray) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise InputSyntaxError(f"not valid JSON: {error.msg}", error.lineno, error.colno) from None

    def elements(self, document: Any) -> list[Any] | None:
        return document if isinstance(document, list) else None


@dataclass(frozen=True, slots=True)
class Item(Generic[T]):
    """One item of an input: its decoded ``value``, or the ``error`` that kept it from being one."""

    where: str  # "line 12" (JSON Lines), "item 3" (array document) or "document"
    value: T | None = None
    error: str | None = None


def _ignore(size: int) -> None:
    return None


def read_items(stream: BinaryIO, decoder: Decoder[T], advance: Callable[[int], None] | None = None) -> Iterator[Item[T]]:
    """The items of one input, in order, following ``INPUT_RULE``; ``advance`` is told every byte count read."""
    advance = advance or _ignore
    head = bytearray()  # the blank lines before line ``number``, and that line
    number = 0
    while True:
        line = stream.readline()
        advance(len(line))
        if not line:
            return  # empty or blank: no items
        number += 1
        head += line
        if line.strip():
            break
    try:
        first = decoder.decode(line.rstrip())
    except InputSyntaxError as error:
        yield from _read_whole(head, number, error, stream, decoder, advance)
        return
    yield from _stream_lines(first, number, stream, decoder, advance)


def _stream_lines(first: T, number: int, stream: BinaryIO, decoder: Decoder[T], advance: Callable[[int], None]) -> Iterator[Item[T]]:
    """Line ``number`` is JSON by itself: the input is JSON Lines unless only blank lines follow."""
    following = number
    for line in stream:
        advance(len(line))
        following += 1
        if line.strip():
            yield Item(f"line {number}", first)
            yield _line_item(line, following, decoder)
            yield from _lines(stream, following + 1, decoder, advance)
            return
    yield from _document(first, decoder)


def _read_whole(
    head: bytearray, number: int, first_error: InputSyntaxError, stream: BinaryIO, decoder: Decoder[T], advance: Callable[[int], None]
) -> Iterator[Item[T]]:
    """Line ``number`` is not JSON by itself: either the input is one document over several lines,
    or it is JSON Lines with a broken line; only the whole input tells."""
    data = head
    start = len(head)
    while chunk := stream.read(_CHUNK):
        advance(len(chunk))
        data += chunk
    try:
        document = decoder.decode(data)
    except InputSyntaxError as whole_error:
        yield from _lines_after_broken_first(data, start, number, first_error, whole_error, decoder)
        return
    yield from _document(document, decoder)


def _lines_after_broken_first(
    data: bytearray, start: int, number: int, first_error: InputSyntaxError, whole_error: InputSyntaxError, decoder: Decoder[T]
) -> Iterator[Item[T]]:
    # Line errors are held until some line turns out to be JSON: if none does, the input was
    # meant as one document, and its own error (with line and column) is the useful report.
    held: list[Item[T]] | None = [Item(f"line {number}", error=_line_error(first_error))]
    for item in _lines(_split_lines(data, start), number + 1, decoder, _ignore):
        if held is not None and item.error is None:
            yield from held
            held = None
        if held is None:
            yield item
        else:
            held.append(item)
    if held is not None:
        where = "" if whole_error.line is None else f" (line {whole_error.line}, column {whole_error.column})"
        yield Item("document", error=f"neither one JSON document nor JSON Lines (no line is JSON on its own): {whole_error.message}{where}")


def _split_lines(data: bytearray, start: int) -> Iterator[bytes]:
    """The lines of ``data`` from offset ``start``, one at a time (no second copy of the whole)."""
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        yield bytes(data[start:end])
        start = end


def _lines(lines: Iterator[bytes] | BinaryIO, number: int, decoder: Decoder[T], advance: Callable[[int], None]) -> Iterator[Item[T]]:
    for number, line in enumerate(lines, number):
        advance(len(line))
        if line.strip():
            yield _line_item(line, number, decoder)


def _line_item(line: bytes, number: int, decoder: Decoder[T]) -> Item[T]:
    try:
        # Without its line break, so that an error at the end of the line is located on it.
        return Item(f"line {number}", decoder.decode(line.rstrip()))
    except InputSyntaxError as error:
        return Item(f"line {number}", error=_line_error(error))


def _line_error(error: InputSyntaxError) -> str:
    return error.message if error.column is None else f"{error.message} (column {error.column})"


def _document(document: T, decoder: Decoder[T]) -> Iterator[Item[T]]:
    elements = decoder.elements(document)
    if elements is None:
        yield Item("document", document)
        return
    for number, element in enumerate(elements, 1):
        yield Item(f"item {number}", element)
