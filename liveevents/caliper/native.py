"""The program of the compiled envelope writer (``_native.c``), made from the registry.

The writer turns a decoded record into the envelope's JSON bytes without building the envelope
as Python objects: the same bytes as ``orjson.dumps(CaliperTransformer.envelope(...))``, at
under half the cost of the Python path (docs/performance.md).  This module hands it each event
type's row as data (Shapes carry their fields as ops, the other object builders are named
below), the transformer's caches and options, the vocabulary it writes around the values (URN
prefixes, the extensions key) and the Python functions of the rare cases.  A row
it cannot express (an object builder or an actor or context rule added in Python only) is left
out of the program, and events of that type take the Python path.  The named builders, the
actor, context and membership rules and the envelope's layout are written again in C: a change
to one of their Python functions needs the same change there (tests/test_native.py, which
compares the two on every fixture, fails until it is made).

The writer is optional: without a C compiler at install time, or with ``LIVEEVENTS_NATIVE=0``
in the environment, :func:`compile_program` returns ``None`` and everything runs in Python.
"""

from __future__ import annotations

import os
import warnings
from hashlib import sha256
from pathlib import Path
from typing import Any

import orjson

from liveevents.caliper import actor, origin
from liveevents.caliper.context import Memberships, body_context, enrollment_section, metadata_context, syllabus_course
from liveevents.caliper.objects import courses, grading, navigation, quizzes, sessions
from liveevents.caliper.origin import SESSION_URN, Origins
from liveevents.caliper.registry import MAPPINGS, EventMapping
from liveevents.caliper.shapes import ObjectBuilder, Op, Shape
from liveevents.caliper.values import SECTION_INFIX, USER_URN, canvas_id, optional_time, urn
from liveevents.caliper.vocabulary import CALIPER_CONTEXT, CANVAS_EXTENSIONS, CONVERTER_VERSION
from liveevents.canvas.redaction import TOKEN_PARAMETER, redact_url
from liveevents.timestamps import normalize_timestamp

try:
    from liveevents.caliper import _native  # type: ignore[attr-defined]  # a C extension, no stub
except ImportError:  # built without a C compiler: the Python path does everything
    _native = None  # type: ignore[assignment]

# render_bytes/render_record/render_event exist only where the writer is built (AVAILABLE).
__all__ = ["AVAILABLE", "Program", "built_from", "compile_program"]


def built_from(source: Path, built_sha256: str) -> bool:
    """Whether a writer built from a file with ``built_sha256`` is the one of ``source`` (true
    when there is no source beside it: an installed package)."""
    return not source.is_file() or sha256(source.read_bytes()).hexdigest() == built_sha256


_SOURCE = Path(__file__).with_name("_native.c")
if _native is not None and not built_from(_SOURCE, _native.SOURCE_SHA256):
    # An editable install whose C file changed since it was built: the old build may not read
    # the programs this module now compiles.
    warnings.warn(
        f"liveevents: the compiled envelope writer was built from another version of {_SOURCE}; rebuild it "
        "(make install, or pip install -e .). The Python path is used meanwhile (same output, slower).",
        RuntimeWarning,
        stacklevel=1,
    )
    _native = None

#: The compiled writer was built (from this source) and is not switched off (``LIVEEVENTS_NATIVE=0``).
AVAILABLE = _native is not None and os.environ.get("LIVEEVENTS_NATIVE", "1") != "0"

#: What ``render_bytes``/``render_record``/``render_event`` take first (opaque outside this module).
Program = tuple[Any, ...]

if _native is not None:
    render_bytes = _native.render_bytes
    render_record = _native.render_record
    render_event = _native.render_event

# Object ops, context sources and actor rules, numbered as in _native.c (Shapes have theirs in shapes.py).
_ASSET, _SYLLABUS, _QUIZ_ATTEMPT, _SESSION_APPLICATION, _GRADED_SCORE = range(2, 7)
_CONTEXT_METADATA, _CONTEXT_BODY, _CONTEXT_ENROLLMENT_SECTION, _CONTEXT_SYLLABUS = range(4)
_ACTOR_BODY, _ACTOR_PERSON_REQUIRED, _ACTOR_GRADE_CHANGE = 1, 2, 4

_OBJECTS: dict[object, Op] = {
    navigation.asset_object: (_ASSET,),
    courses.syllabus: (_SYLLABUS,),
    quizzes.quiz_attempt: (_QUIZ_ATTEMPT,),
    sessions.session_application: (_SESSION_APPLICATION,),
    grading.graded_score: (_GRADED_SCORE, grading.SCORE.op),
}
_CONTEXTS: dict[object, int] = {
    metadata_context: _CONTEXT_METADATA,
    body_context: _CONTEXT_BODY,
    enrollment_section: _CONTEXT_ENROLLMENT_SECTION,
    syllabus_course: _CONTEXT_SYLLABUS,
}


def _object_op(builder: ObjectBuilder | None) -> Op | None:
    if builder is None:
        return None
    return builder.op if isinstance(builder, Shape) else _OBJECTS.get(builder)


def _event_row(mapping: EventMapping, strict: bool) -> Op | None:
    """The event type's row for the writer, or None when it cannot express it."""
    object_op = _object_op(mapping.object_in(strict=strict))
    generated_op = _object_op(mapping.generated)
    context = _CONTEXTS.get(mapping.context)
    if mapping.actor is None:
        actor_rule = (_ACTOR_BODY if mapping.body_actor else 0) | (_ACTOR_PERSON_REQUIRED if mapping.person_required else 0)
    elif mapping.actor is grading.grade_change_actor:
        actor_rule = _ACTOR_GRADE_CHANGE
    else:
        return None
    if object_op is None or (mapping.generated is not None and generated_op is None) or context is None:
        return None
    return (mapping.caliper_type, mapping.action, object_op, generated_op, context, actor_rule)


def _strings(value: object) -> list[str]:
    """Every string in a row of the program (keys, names, prefixes, types)."""
    if type(value) is str:
        return [value]
    if type(value) is tuple:
        return [text for item in value for text in _strings(item)]
    return []


def _plain(text: str) -> bool:
    """JSON text as it is: the writer copies the program's keys without escaping them."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def compile_program(*, strict: bool, origins: Origins, memberships: Memberships, redact_tokens: bool) -> Program | None:
    """The writer's program for one transformer's options (``None``: Python only)."""
    if not AVAILABLE:
        return None
    events = {name: row for name, mapping in MAPPINGS.items() if (row := _event_row(mapping, strict)) is not None}
    keys = (actor.PERSON_FIELDS, actor.ACCOUNT_FIELDS, origin.REQUEST_FIELDS, origin.JOB_FIELDS, navigation.METADATA_FIELDS, navigation.BODY_FIELDS)
    unplain = [text for text in _strings((tuple(events.values()), keys, _VOCABULARY)) if not _plain(text)]
    if unplain:
        raise ValueError(f"the compiled writer's program holds names that JSON must escape: {unplain}")
    return (
        events,
        origins,
        origins.of,
        origins.of(None),
        memberships.roles,
        redact_tokens,
        redact_url,
        canvas_id,
        optional_time,
        navigation.ASSET_KINDS,
        orjson.dumps,
        orjson.OPT_SORT_KEYS,
        sha256,
        CALIPER_CONTEXT,
        CONVERTER_VERSION,
        actor.PERSON_FIELDS,
        actor.ACCOUNT_FIELDS,
        origin.REQUEST_FIELDS,
        origin.JOB_FIELDS,
        navigation.METADATA_FIELDS,
        navigation.BODY_FIELDS,
        normalize_timestamp,
        orjson.loads,
        TOKEN_PARAMETER,
        _VOCABULARY,
    )


#: The words of the output the writer writes around the values, as the Python path spells them.
_VOCABULARY = (urn("course", ""), USER_URN, SESSION_URN, urn("submission", ""), urn("quiz", ""), SECTION_INFIX, CANVAS_EXTENSIONS)
