"""A strict IMS Caliper 1.1 validator, with a Canvas-compatible mode.

    >>> from liveevents import validate_caliper
    >>> problems = validate_caliper(envelope)                 # strict: the spec as written
    >>> problems = validate_caliper(envelope, mode="canvas")  # Instructure's documented deviations -> warnings
    >>> valid = not any(p.severity == "error" for p in problems)

``validate_caliper_json`` takes the JSON text instead and also reports repeated keys.  Rules,
policies and the rule-id catalogue: docs/validator.md (``RULES`` holds the catalogue as data).
"""

from __future__ import annotations

from typing import Any

from liveevents.caliper.validation.jsontext import JsonTextError, decode
from liveevents.caliper.validation.problem import Problem
from liveevents.caliper.validation.rules import DEVIATIONS, MODES, RULES, Rule
from liveevents.caliper.validation.walker import Walk

__all__ = ["DEVIATIONS", "MODES", "RULES", "Problem", "Rule", "is_valid", "validate_caliper", "validate_caliper_json"]


def _canvas(mode: str) -> bool:
    if mode not in MODES:
        raise ValueError(f"unknown validation mode {mode!r}; expected one of {', '.join(MODES)}")
    return mode == "canvas"


def validate_caliper(document: Any, *, mode: str = "strict") -> list[Problem]:
    """Validate a decoded Caliper 1.1 envelope, event or entity; return its problems.

    Problems come in document order, except that an event's ``action`` is checked (it decides
    the allowed slot types) before its other properties.

    ``mode`` is ``"strict"`` (SPEC 1.1 with the documented policies) or ``"canvas"`` (the same,
    with Instructure's documented deviations reported as warnings).  Raises ``ValueError`` for
    any other mode.  The document is valid when no problem has severity ``"error"``.
    """
    walk = Walk(canvas=_canvas(mode))
    _walk(walk, document)
    return walk.problems


def validate_caliper_json(text: str | bytes | bytearray, *, mode: str = "strict") -> list[Problem]:
    """Validate JSON text: a ``json.syntax`` error when it is not JSON, ``json.key.duplicate`` for
    every repeated key, then everything ``validate_caliper`` checks."""
    canvas = _canvas(mode)
    try:
        document, duplicates = decode(text)
    except JsonTextError as error:
        return [error.problem]
    walk = Walk(canvas=canvas)
    walk.problems.extend(duplicates)
    _walk(walk, document)
    return walk.problems


def _walk(walk: Walk, document: Any) -> None:
    try:
        walk.document(document)
    except RecursionError:
        walk.problems.append(
            Problem("", "document.depth", "the document nests too deep to validate (beyond Python's recursion limit)", "error")
        )


def is_valid(problems: list[Problem]) -> bool:
    """True when none of ``problems`` is an error."""
    return all(problem.severity != "error" for problem in problems)
