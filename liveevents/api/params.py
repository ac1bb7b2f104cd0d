"""Path and query values of the management API that no store can hold, refused before they
reach one (SQLite raises OverflowError on an integer beyond 64 bits, PostgreSQL a DataError on
a NUL character): answered 422 as any other invalid parameter, the same on both stores."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

__all__ = ["MAX_KEY", "Cursor", "KeyPath", "refuse_nul"]

# Sequence numbers and ids are signed 64-bit integers in both stores.
MAX_KEY = 2**63 - 1

KeyPath = Annotated[int, Path(ge=0, le=MAX_KEY)]


def _cursor(value: object) -> int:
    # isdigit() alone takes '²' (which int() refuses) and other scripts' digits; pydantic's own
    # int parsing would take ' 5', '+5', '5.0' and '1_000', which no next_cursor looks like.
    if not (isinstance(value, str) and value.isascii() and value.isdigit()) or int(value) > MAX_KEY:
        raise PydanticCustomError("cursor", "a cursor: a whole number from 0 to {max} (a page's next_cursor)", {"max": MAX_KEY})
    return int(value)


#: A page cursor in a query (``after``/``before``): a page's ``next_cursor``, as the store can hold it.
Cursor = Annotated[int, BeforeValidator(_cursor)]


def refuse_nul(request: Request) -> None:
    """Router dependency: a NUL character in a path or query value (never in a stored name or id)."""
    located = [("path", name, value) for name, value in request.path_params.items()]
    located += [("query", name, value) for name, value in request.query_params.multi_items()]
    problems = [
        {"loc": (where, name), "input": value, "msg": "must not contain a NUL character"}
        for where, name, value in located
        if "\x00" in value
    ]
    if problems:
        raise RequestValidationError(problems)
