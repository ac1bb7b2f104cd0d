"""liveevents: Canvas LMS live events, transformed faithfully and delivered dependably.

The public library API (stable names)::

    from liveevents import canvas_message, caliper_envelope, caliper_envelope_json, caliper_event_types, validate_caliper

The transform and validation core is pure (no I/O) and importable without the service.
Names are resolved lazily so that ``import liveevents`` stays cheap for the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CanvasEvent": "liveevents.canvas.record",
    "RecordError": "liveevents.canvas.record",
    "parse_record": "liveevents.canvas.record",
    "decode_record": "liveevents.canvas.record",
    "canvas_message": "liveevents.canvas.message",
    "CANVAS_EVENT_TYPES": "liveevents.canvas.catalog",
    "caliper_envelope": "liveevents.caliper.envelope",
    "caliper_envelope_json": "liveevents.caliper.envelope",
    "caliper_event_types": "liveevents.caliper.registry",
    "UnmappedEventError": "liveevents.caliper.registry",
    "validate_caliper": "liveevents.caliper.validation",
    "Problem": "liveevents.caliper.validation",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from liveevents.caliper.envelope import caliper_envelope, caliper_envelope_json
    from liveevents.caliper.registry import UnmappedEventError, caliper_event_types
    from liveevents.caliper.validation import Problem, validate_caliper
    from liveevents.canvas.catalog import CANVAS_EVENT_TYPES
    from liveevents.canvas.message import canvas_message
    from liveevents.canvas.record import CanvasEvent, RecordError, decode_record, parse_record


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'liveevents' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
