"""Decoding JSON text while noticing repeated keys (invisible once decoded into a dict).

SPEC §2.1, §2.2 and §5.2: "Each property MUST be referenced only once".  The C decoder of the
standard library calls ``object_pairs_hook`` with every object's key/value pairs; the hook builds
the dict and, only when the pair count exceeds the key count, marks it.  The (rare) marked dicts
are then located by one walk, so the common case costs one ``len`` comparison per object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Final

from liveevents.caliper.validation.problem import Problem, pointer

__all__ = ["JsonTextError", "decode"]


class JsonTextError(ValueError):
    """The text is not JSON.  ``problem`` reports it (line and column in its message); ``reason``
    is the message without them, and ``line``/``column`` (1-based) say where, when known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        where = "" if line is None else f" at line {line} column {column}"
        self.problem = Problem("", "json.syntax", reason + where, "error")
        super().__init__(self.problem.message)
        self.reason = reason
        self.line = line
        self.column = column


class _Repeated(dict[str, Any]):
    """A decoded object whose text repeated ``keys`` (the last value of each is kept)."""

    __slots__ = ("keys_repeated",)
    keys_repeated: list[str]


# Bumped by every marked object: ``decode`` compares it before and after, so the tree is walked only
# when some object repeated a key.  Counts only grow, so a concurrent decode in another thread can
# cause a needless walk but never hide a repeat.
_marked = [0]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    decoded = dict(pairs)
    if len(decoded) == len(pairs):
        return decoded
    _marked[0] += 1
    marked = _Repeated(decoded)
    seen: set[str] = set()
    marked.keys_repeated = [key for key, _ in pairs if key in seen or seen.add(key)]  # type: ignore[func-returns-value]
    return marked


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_DECODER: Final = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_reject_constant)


def _repeated(value: Any, path: str) -> Iterator[Problem]:
    if isinstance(value, dict):
        if isinstance(value, _Repeated):
            for key in value.keys_repeated:
                yield Problem(
                    pointer(path, key),
                    "json.key.duplicate",
                    f"key {key!r} appears more than once in this object (each property MUST appear once)",
                    "error",
                )
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                yield from _repeated(item, pointer(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                yield from _repeated(item, pointer(path, index))


def decode(text: str | bytes | bytearray) -> tuple[Any, list[Problem]]:
    """Decode one JSON document; return it with a ``json.key.duplicate`` problem per repeated key.

    Raises ``JsonTextError`` (``json.syntax``, naming line and column) when it is not JSON.
    """
    if not isinstance(text, str):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise JsonTextError(f"the input is not UTF-8 text (byte {error.start}: {error.reason})") from None
    before = _marked[0]
    try:
        document = _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise JsonTextError(f"not JSON: {error.msg}", error.lineno, error.colno) from None
    except ValueError as error:  # NaN / Infinity
        raise JsonTextError(f"not JSON: {error}") from None
    except RecursionError:
        raise JsonTextError("nested too deep to decode (beyond Python's recursion limit)") from None
    if _marked[0] == before:
        return document, []
    duplicates = list(_repeated(document, ""))
    return (_plain(document) if duplicates else document), duplicates


def _plain(value: Any) -> Any:
    """The same data with ordinary dicts only (callers should never see the marker class)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
