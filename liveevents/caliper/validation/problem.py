"""What the validator reports: one ``Problem`` per finding, located by a JSON Pointer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Problem", "Severity", "pointer", "show"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding.

    ``path`` is an RFC 6901 JSON Pointer into the validated document (``""`` = the document
    itself), ``rule`` a stable id from ``liveevents.caliper.validation.RULES``, ``message``
    names the offending value and what was expected.  A document is valid when no problem
    has ``severity == "error"``.
    """

    path: str
    rule: str
    message: str
    severity: Severity

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "rule": self.rule, "severity": self.severity, "message": self.message}


def pointer(parent: str, key: str | int) -> str:
    """``parent`` extended by one reference token, escaped as RFC 6901 requires (``~``, ``/``)."""
    if isinstance(key, int):
        return f"{parent}/{key}"
    if "~" in key or "/" in key:
        key = key.replace("~", "~0").replace("/", "~1")
    return f"{parent}/{key}"


def show(value: Any, limit: int = 80) -> str:
    """A value as messages name it: JSON words for null/booleans/containers, else its repr, cut short."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    if isinstance(value, list):
        return "an array" if value else "an empty array"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
