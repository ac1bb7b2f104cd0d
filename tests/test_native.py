"""Differential tests of the compiled envelope writer (``liveevents/caliper/_native.c``).

``CaliperTransformer.envelope_json(record, send_time)`` must always give exactly
``orjson.dumps(CaliperTransformer(compiled=False).envelope(record, send_time))`` (the same
bytes), or raise the same exception type with the same message, whatever the record: raw JSON
bytes, a decoded dict or a :class:`CanvasEvent`, with any of the transformer's options.
The writer may decline a record (it returns None and the Python path answers), never answer
differently.  Both implementations are compared here; no expected value is written by hand
except where a test checks the writer is used at all (a writer that declined everything would
pass every comparison).

* every fixture record of ``fixtures/transform`` (and, where ``../shared`` is present, every
  documented Canvas example), with every combination of the options, as JSON bytes, JSON text,
  dict and CanvasEvent (parsed, with and without its id, and built directly);
* thousands of records generated and mutated by a seeded ``random.Random``: every failure message
  names the seed and the case (``random.Random("<seed>/<group>/<index>")`` regenerates it; names
  made fresh for the caches are numbered per process, so the record shown is the exact one) and
  shows the record.  ``LIVEEVENTS_NATIVE_SEED`` picks another seed, ``LIVEEVENTS_NATIVE_SCALE``
  multiplies the number of records (e.g. ``LIVEEVENTS_NATIVE_SCALE=20`` for a long local run);
* the transformer's caches (host names, asset types) filled first by either path;
* CanvasEvent input with and without its event id computed;
* ``LIVEEVENTS_NATIVE=0`` (in a subprocess) and the benchmark's realistic mix.

Known divergences are marked ``xfail(strict=True)`` with the reason (remove the mark with the fix).

Without the compiled writer the module is skipped, except :func:`test_compiled_writer_is_built`,
which fails when ``LIVEEVENTS_REQUIRE_NATIVE=1`` (set in CI) so a build that silently lost the
writer (no C compiler: ``setup.py`` marks the extension optional) does not go unnoticed.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from liveevents.caliper import native
from liveevents.caliper.envelope import CaliperTransformer, caliper_envelope, caliper_envelope_json, format_send_time
from liveevents.caliper.registry import MAPPINGS
from liveevents.caliper.roles import SUGGESTED_ROLE_MAP
from liveevents.canvas.catalog import CANVAS_EVENT_TYPES
from liveevents.canvas.record import CanvasEvent, load_record, parse_record
from tests.test_caliper_cases import load_cases

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REQUIRE_NATIVE = os.environ.get("LIVEEVENTS_REQUIRE_NATIVE") == "1"
NOT_BUILT = (
    "the compiled envelope writer (liveevents/caliper/_native.c) is not available: not built (no C compiler at "
    "install time) or switched off with LIVEEVENTS_NATIVE=0; rebuild with `.venv/bin/pip install -e '.[test]'`"
)


def test_compiled_writer_is_built() -> None:
    if native.AVAILABLE:
        assert CaliperTransformer()._program is not None
        return
    if REQUIRE_NATIVE:
        pytest.fail(f"LIVEEVENTS_REQUIRE_NATIVE=1 but {NOT_BUILT}")
    pytest.skip(NOT_BUILT)


if not native.AVAILABLE and not REQUIRE_NATIVE:
    pytest.skip(NOT_BUILT, allow_module_level=True)


@pytest.fixture(autouse=True)
def _writer_required(request: pytest.FixtureRequest) -> None:
    """With LIVEEVENTS_REQUIRE_NATIVE=1 and no writer, only test_compiled_writer_is_built runs
    (and fails): the rest would compare the Python path with itself."""
    if not native.AVAILABLE and request.node.originalname != "test_compiled_writer_is_built":
        pytest.skip(NOT_BUILT)


SEED = os.environ.get("LIVEEVENTS_NATIVE_SEED", "liveevents-native-2024")
SCALE = float(os.environ.get("LIVEEVENTS_NATIVE_SCALE", "1"))
SEND_TIME = datetime(2024, 9, 16, 14, 5, 9, 31999, tzinfo=timezone.utc)


# ---------------------------------------------------------------- the two paths


@dataclass(frozen=True)
class Pair:
    """One set of options: a transformer with the compiled writer and one with the Python path only."""

    label: str
    options: dict[str, Any]
    compiled: CaliperTransformer
    python: CaliperTransformer


def _pair(**options: Any) -> Pair:
    label = ", ".join(f"{key}={'SUGGESTED_ROLE_MAP' if key == 'role_map' and value is not None else repr(value)}" for key, value in options.items())
    return Pair(label, options, CaliperTransformer(**options), CaliperTransformer(**options, compiled=False))


#: Every combination of the options (profile x redact_tokens x canvas_domain x role_map).
PAIRS = [
    _pair(profile=profile, redact_tokens=redact, canvas_domain=domain, role_map=role_map)
    for profile in ("canvas", "strict")
    for redact in (True, False)
    for domain in (None, "canvas.example.edu")
    for role_map in (None, SUGGESTED_ROLE_MAP)
]

Outcome = tuple[Any, ...]


def outcome(call: Callable[[], bytes]) -> Outcome:
    """``("bytes", b"...")`` or ``("raises", exception type, message)``."""
    try:
        return ("bytes", call())
    except Exception as error:  # noqa: BLE001 - the point is to compare whatever is raised
        return ("raises", type(error), str(error))


def reference(transformer: CaliperTransformer, record: object, send_time: datetime | None) -> bytes:
    """The contract: ``orjson.dumps`` of the Python path's envelope, JSON bytes decoded first.
    A ``str`` is answered by the Python path of ``envelope_json`` itself (``transformer`` is built
    with ``compiled=False``): whether text is JSON or a decoded value is envelope.py's to say, the
    writer must only not change the answer."""
    if type(record) is str:
        assert transformer._program is None
        return transformer.envelope_json(record, send_time)
    return orjson.dumps(transformer.envelope(decoded(record), send_time))


def decoded(record: object) -> object:
    return load_record(record) if isinstance(record, (bytes, bytearray, memoryview)) else record


def written_by_writer(transformer: CaliperTransformer, record: object, send_time: datetime | None) -> bytes | None:
    """What the compiled writer itself returns for ``record`` (None: it leaves it to Python), called
    as ``envelope_json`` calls it; used to check the writer is actually exercised."""
    program = transformer._program
    try:
        sent = format_send_time(send_time)
    except ValueError:  # a naive send_time: refused before the writer is called
        return None
    if type(record) is bytes:
        return native.render_bytes(program, record, sent)
    if type(record) is CanvasEvent:
        return native.render_event(program, record.metadata, record.body, record.known_event_time, record.known_event_id, sent)
    return native.render_record(program, record, sent)


@dataclass
class Comparison:
    compiled: Outcome
    python: Outcome
    writer: Outcome  # what the writer itself returned: ("bytes", None) when it declined

    @property
    def same(self) -> bool:
        """envelope_json answers as the Python path, and the writer alone wrote those bytes or declined."""
        return self.compiled == self.python and (self.writer[0] == "bytes" and self.writer[1] in (None, self.python[1]))

    @property
    def written(self) -> bool:
        return self.writer[0] == "bytes" and self.writer[1] is not None


def compare(pair: Pair, fresh: Callable[[], object], send_time: datetime | None = SEND_TIME) -> Comparison:
    """Both paths on the same input; ``fresh()`` makes it anew for each (a CanvasEvent remembers
    its event id once computed, which changes what the writer is given)."""
    return Comparison(
        compiled=outcome(lambda: pair.compiled.envelope_json(fresh(), send_time)),
        python=outcome(lambda: reference(pair.python, fresh(), send_time)),
        writer=outcome(lambda: written_by_writer(pair.compiled, fresh(), send_time)),
    )


def show(value: Outcome) -> str:
    if value[0] == "bytes":
        return "None (declined)" if value[1] is None else value[1].decode("utf-8", "backslashreplace")
    return f"raises {value[1].__module__}.{value[1].__qualname__}: {value[2]}"


def divergence(where: str, form: str, pair: Pair, record: object, result: Comparison) -> str:
    return (
        f"{where}\n  options: {pair.label}\n  input form: {form}\n  record: {record!r}\n"
        f"  envelope_json:           {show(result.compiled)}\n  Python path (reference): {show(result.python)}\n"
        f"  compiled writer alone:   {show(result.writer)}"
    )


# ---------------------------------------------------------------- input forms


def json_text(record: object, rng: random.Random | None = None) -> str | None:
    """The record as JSON text (stdlib json: big integers exactly, lone surrogates escaped, NaN
    as the non-JSON literal the decoder refuses); None when it has no JSON form."""
    try:
        return json.dumps(record, ensure_ascii=bool(rng and rng.random() < 0.3))
    except (TypeError, ValueError):
        return None


def forms(record: object, rng: random.Random | None = None, *, all_forms: bool = True) -> Iterator[tuple[str, Callable[[], object]]]:
    """``(name, fresh input)`` for each form the record can be given in."""
    yield "dict", lambda: record
    text = json_text(record, rng)
    if text is not None:
        raw = text.encode("utf-8", "surrogatepass")  # a lone surrogate: bytes that are not UTF-8
        if all_forms or rng is None or rng.random() < 0.7:
            yield "bytes", lambda: raw
        if all_forms or rng is None or rng.random() < 0.15:
            yield "str", lambda: text
    try:
        parse_record(record)
    except Exception:  # noqa: BLE001 - the dict form already compares the error
        pass
    else:
        yield "CanvasEvent (event_id not computed)", lambda: parse_record(record)

        def with_id() -> CanvasEvent:
            event = parse_record(record)
            event.event_id  # noqa: B018 - computed and remembered
            return event

        try:
            with_id()
        except Exception:  # noqa: BLE001 - no id to compute: compared in the other forms
            pass
        else:
            yield "CanvasEvent (event_id computed)", with_id
    if type(record) is dict:
        metadata = record.get("attributes", record.get("metadata"))
        body = record.get("body")
        if type(metadata) is dict and type(body) is dict:
            # Built directly: event_time not normalised yet, the writer reads metadata.event_time.
            yield "CanvasEvent(metadata, body)", lambda: CanvasEvent(metadata, body)


# ---------------------------------------------------------------- fixture records


def fixture_records() -> list[tuple[str, dict[str, Any]]]:
    """``(case id, input record)`` of every case in fixtures/transform."""
    return [(case.id, case.values[0]["input"]) for case in load_cases()]


FIXTURE_RECORDS = fixture_records()


def test_fixtures_cover_every_mapped_event_type() -> None:
    names = {record["attributes"]["event_name"] for _, record in FIXTURE_RECORDS}
    assert names == set(MAPPINGS)
    assert len(names) == 32


def _check_everywhere(where: str, record: object, *, must_write: bool) -> None:
    failures = []
    for pair in PAIRS:
        for form, fresh in forms(record):
            result = compare(pair, fresh)
            if not result.same:
                failures.append(divergence(where, form, pair, record, result))
            elif must_write and result.python[0] == "bytes" and not result.written:
                failures.append(f"{where}: the compiled writer declined a well-formed record ({form}, {pair.label}); it should write it")
    assert not failures, f"{len(failures)} failure(s); the first:\n" + "\n".join(failures[:3])


@pytest.mark.parametrize(("case_id", "record"), FIXTURE_RECORDS, ids=[case_id for case_id, _ in FIXTURE_RECORDS])
def test_fixture_record_gives_the_same_bytes(case_id: str, record: dict[str, Any]) -> None:
    before = orjson.dumps(record)
    _check_everywhere(f"fixture {case_id}", record, must_write=True)
    assert orjson.dumps(record) == before, "a path changed its input record"


@pytest.mark.parametrize("options", [{}, {"profile": "strict"}, {"canvas_domain": "canvas.example.edu", "role_map": SUGGESTED_ROLE_MAP, "redact_tokens": False}])
def test_module_functions_give_the_same_bytes(options: dict[str, Any]) -> None:
    """caliper_envelope_json (its shared transformers) against caliper_envelope."""
    for case_id, record in FIXTURE_RECORDS:
        for form, fresh in forms(record):
            if form == "str":
                continue  # no Python-only twin of caliper_envelope_json: compared through the transformers
            compiled = outcome(lambda: caliper_envelope_json(fresh(), send_time=SEND_TIME, **options))
            python = outcome(lambda: orjson.dumps(caliper_envelope(decoded(fresh()), send_time=SEND_TIME, **options)))
            assert compiled == python, f"fixture {case_id}, {form}, {options}:\n{show(compiled)}\n{show(python)}"


def test_shared_reference_examples_give_the_same_bytes(shared_reference: Path) -> None:
    """Every documented Canvas example (82 event types; the unmapped ones raise in both paths)."""
    folder = shared_reference / "canvas-live-events" / "json" / "canvas" / "event-types"
    paths = sorted(folder.glob("*.json"))
    assert paths, f"no examples in {folder}"
    for path in paths:
        for number, example in enumerate(json.loads(path.read_text())["examples"], 1):
            _check_everywhere(f"shared example {path.stem}-{number}", example["payload"], must_write=False)


@pytest.mark.parametrize(
    "send_time",
    [
        datetime(2024, 9, 16, 14, 5, 9, 999999, tzinfo=timezone.utc),
        datetime(2024, 9, 16, 19, 35, 9, 1000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(1, 1, 1, tzinfo=timezone.utc),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
        datetime(2024, 9, 16, 14, 5, 9),  # naive: ValueError in both
    ],
    ids=["micro", "offset", "min", "max", "naive"],
)
def test_send_time_forms(send_time: datetime) -> None:
    for case_id, record in FIXTURE_RECORDS[::5]:
        for pair in PAIRS[::5]:
            for form, fresh in forms(record):
                result = compare(pair, fresh, send_time)
                assert result.same, divergence(f"fixture {case_id}, send_time {send_time!r}", form, pair, record, result)


# ---------------------------------------------------------------- values


_CHARS = [
    *"abcXYZ0189 _-.:/~?&=#%+", '"', "\\", "\x00", "\x01", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x1b", "\x1f", "\x7f",
    "é", "ß", "日", "\u2028", "\u2029", "\u00a0", "\u3000", "😀", "𝔘", "١", "٣", "２", "<", ">", "{", "}", "|", "^", "`", "\ufeff",
]  # fmt: skip


def random_text(rng: random.Random) -> str:
    # Lengths around 8 and 16: the writer scans strings 8 bytes at a time.
    size = rng.choice([0, 1, 2, 7, 8, 9, 15, 16, 17, rng.randrange(64)])
    return "".join(rng.choice(_CHARS) for _ in range(size))


def special_string(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: "",
            lambda: " ",
            lambda: "plain text",
            lambda: 'a "quoted" word',
            lambda: "back\\slash\\",
            lambda: "".join(map(chr, range(32))),
            lambda: "\x7f\x80\x9f",
            lambda: "café ﬁ Ωmega 日本語",
            lambda: "emoji 😀👍🏽 mix",
            lambda: "\u2028\u2029",
            lambda: "x" * rng.randrange(40) + rng.choice(['"', "\\", "\n", "\x00", "é", "\x1f", "😀"]) + "y" * rng.randrange(40),
            lambda: "<p>" + "long text " * rng.randrange(1, 200) + "</p>",
            lambda: random_text(rng),
            lambda: random_text(rng),
        ]
    )()


def scalar(rng: random.Random) -> Any:
    return rng.choice(
        [
            lambda: None,
            lambda: True,
            lambda: False,
            lambda: 0,
            lambda: -1,
            lambda: rng.randrange(-(2**70), 2**70) >> rng.randrange(70),
            lambda: 2**63,
            lambda: 2**64 - 1,
            lambda: -(2**63),
            lambda: 1.5,
            lambda: -0.0,
            lambda: 100.0,
            lambda: 1e300,
            lambda: 1e-7,
            lambda: rng.uniform(-1e6, 1e6),
            lambda: special_string(rng),
            lambda: special_string(rng),
        ]
    )()


_KEYS = ["a", "b", "id", "", "key with space", 'k"q', "k\\", "k\x01", "ключ", "😀", "type", "url"]


def json_value(rng: random.Random, depth: int = 3) -> Any:
    """Any JSON value, nested at most ``depth`` levels (far below orjson's depth limit)."""
    roll = rng.random()
    if depth <= 0 or roll < 0.5:
        return scalar(rng)
    if roll < 0.75:
        return [json_value(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {rng.choice(_KEYS): json_value(rng, depth - 1) for _ in range(rng.randrange(4))}


def weird_id(rng: random.Random) -> Any:
    """An id value of every kind: plain and global ids, integers of every size, other JSON types,
    strings an IRI cannot hold, Unicode letters and digits, a lone surrogate (dict input only)."""
    return rng.choice(
        [
            lambda: str(rng.randrange(1, 10**6)),
            lambda: str(54320000000000000 + rng.randrange(10**6)),
            lambda: rng.randrange(1, 10**6),
            lambda: 0,
            lambda: "0",
            lambda: -rng.randrange(1, 10**6),
            lambda: 2**63 + rng.randrange(10**6),  # fits orjson's u64
            lambda: 2**64 + rng.randrange(10**6),  # fits no JSON writer here
            lambda: 10**30,
            lambda: True,
            lambda: False,
            lambda: 12.0,
            lambda: rng.uniform(0, 1e6),
            lambda: "",
            lambda: "abc-123_x.y",
            lambda: "1~2",
            lambda: "a:b/c?d=e#f",
            lambda: "hex" + format(rng.getrandbits(64), "x"),
            lambda: "ab cd",
            lambda: "a\tb",
            lambda: "tail\n",
            lambda: 'q"uote',
            lambda: "back\\slash",
            lambda: "ctl\x01x",
            lambda: "\x00",
            lambda: "\x7f",
            lambda: rng.choice(["<x>", "a|b", "a^b", "a`b", "{x}"]),
            lambda: "\u00a0",
            lambda: "\u2028",
            lambda: "é",
            lambda: "١٢٣",  # Arabic-Indic digits: str.isalnum() is true
            lambda: "２０２４",
            lambda: "😀",
            lambda: "id😀1",
            lambda: "ǅ",
            lambda: "\ud800",  # no JSON text holds it: dict input only
            lambda: "12\udfff",
            lambda: [1],
            lambda: {"id": 1},
            lambda: None,
        ]
    )()


def timestamp(rng: random.Random) -> Any:
    """Every form timestamps.py reads, and values it refuses (impossible dates, hour 24, second
    60, month 13, year 0000, 29 February of common years, offsets out of range...)."""
    year = rng.choice([0, 1, 999, 1000, 1900, 2000, 2019, 2023, 2024, 2100, 9999])
    month = rng.choice([0, 1, 2, 2, 2, 6, 9, 12, 13])
    day = rng.choice([0, 1, 15, 28, 29, 29, 30, 31, 32])
    hour = rng.choice([0, 5, 12, 23, 24, 25])
    minute = rng.choice([0, 38, 59, 60])
    second = rng.choice([0, 7, 59, 60, 61])
    date = f"{year:04d}-{month:02d}-{day:02d}"
    if rng.random() < 0.5:
        # the canonical shape (the writer's own check) with any of those components
        return f"{date}T{hour:02d}:{minute:02d}:{second:02d}.{rng.randrange(1000):03d}Z"
    return rng.choice(
        [
            lambda: date,
            lambda: f"{date}T{hour:02d}:{minute:02d}:{second:02d}Z",
            lambda: f"{date}T{hour:02d}:{minute:02d}Z",
            lambda: f"{date}T{hour:02d}:{minute:02d}:{second:02d}.{rng.randrange(10**9)}Z",
            lambda: f"{date}T{hour:02d}:{minute:02d}:{second:02d},5z",
            lambda: f"{date}t{hour:02d}:{minute:02d}:{second:02d}Z",
            lambda: f"{date}T{hour:02d}:{minute:02d}:{second:02d}" + rng.choice(["+00:00", "-08:00", "+05:30", "+14:00", "-23:59", "+24:00", "-12:60"]),
            lambda: f"{date}T{hour:02d}:{minute:02d}:{second:02d}.123" + rng.choice(["-0800", "+0530", "+05", "-00", "+2400"]),
            lambda: f"{date} {hour:02d}:{minute:02d}:{second:02d} " + rng.choice(["-0800", "+0000", "UTC", "+0100", "-2359"]),
            lambda: f"{date} {hour:02d}:{minute:02d}:{second:02d}UTC",
            lambda: f"{date}T{hour:02d}:{minute:02d}:{second:02d}",  # no zone: refused
            lambda: "0001-01-01T00:00:00+00:01",  # before year 1 once in UTC
            lambda: "9999-12-31T23:59:59-00:01",  # after year 9999 once in UTC
            lambda: "2024-02-29T12:00:00.000Z",
            lambda: "2023-02-29T12:00:00.000Z",
            lambda: "1900-02-29T12:00:00.000Z",
            lambda: "2000-02-29T12:00:00.000Z",
            lambda: "2019-10-05 05:38:00 -0800",
            lambda: "2019-10-05 13:38:00 UTC",
            lambda: "2019-10-05",
            lambda: "２０１９-10-05T05:38:00.000Z",
            lambda: "2019-1٠-05T05:38:00.000Z",
            lambda: "2019-10-05T05:38:00.000Z ",
            lambda: " 2019-10-05T05:38:00.000Z",
            lambda: "2019-10-05T05:38:00.000+00:00",
            lambda: "",
            lambda: "yesterday",
            lambda: 1570253880,
            lambda: 1570253880.5,
            lambda: True,
            lambda: ["2019-10-05T05:38:00.000Z"],
            lambda: None,
        ]
    )()


def number(rng: random.Random) -> Any:
    """Scores and counts: integers, integral and other floats, huge values, non-numbers."""
    return rng.choice(
        [0, 1, 18, -3, 100, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**25, 0.0, -0.0, 100.0, 18.5, 0.1, -2.25, 1e15, 1.5e19,
         1e20, 1e300, -1e300, 5e-324, float("nan"), float("inf"), "10", "1.5", "", True, False, None, [], {}, [10]]
    )  # fmt: skip


# ---------------------------------------------------------------- records of every mapped type

HOSTS = ["canvas.northfield.edu", "canvas.riverton.edu", "lms.example.org", "xn--caf-dma.example", "café.example", "localhost", "10.0.0.7", "host:8080", "host/path"]
ROLES = ["TeacherEnrollment", "StudentEnrollment", "TaEnrollment", "DesignerEnrollment", "ObserverEnrollment", "StudentViewEnrollment", "AccountAdmin", "Teacher", "", "teacherenrollment"]
ASSET_TYPES = ["course", "wiki_page", "assignment", "discussion_topic", "attachment", "quizzes:quiz", "context_external_tool", "group", "user", "calendar_event", "quizzes.next_quiz"]

# The body fields Canvas sends for each mapped event type, with their kind (what to generate).
_ASSIGNMENT = {"assignment_id": "id", "title": "text", "description": "text", "updated_at": "time", "lock_at": "time", "unlock_at": "time",
               "due_at": "time", "points_possible": "number", "context_id": "id", "context_type": "context_type", "workflow_state": "text",
               "submission_types": "text", "assignment_group_id": "id", "context_uuid": "text"}  # fmt: skip
_OVERRIDE = {"assignment_override_id": "id", "assignment_id": "id", "all_day": "bool", "all_day_date": "date", "course_section_id": "id",
             "group_id": "id", "type": "text", "due_at": "time", "lock_at": "time", "unlock_at": "time", "workflow_state": "text"}  # fmt: skip
_ATTACHMENT = {"attachment_id": "id", "user_id": "id", "display_name": "text", "filename": "text", "folder_id": "id", "context_type": "context_type",
               "context_id": "id", "content_type": "text", "updated_at": "time", "lock_at": "time", "unlock_at": "time"}  # fmt: skip
_COURSE = {"course_id": "id", "uuid": "text", "account_id": "id", "name": "text", "created_at": "time", "updated_at": "time", "workflow_state": "text"}
_ENROLLMENT = {"enrollment_id": "id", "course_id": "id", "course_section_id": "id", "user_id": "id", "user_name": "text", "type": "text",
               "created_at": "time", "updated_at": "time", "limit_privileges_to_course_section": "bool", "workflow_state": "text",
               "associated_user_id": "id"}  # fmt: skip
_ENROLLMENT_STATE = {"enrollment_id": "id", "state": "text", "state_started_at": "time", "state_is_current": "bool", "state_valid_until": "time",
                     "restricted_access": "bool", "access_is_current": "bool"}  # fmt: skip
_QUIZ = {"quiz_id": "id", "title": "text", "context_id": "id", "context_type": "context_type", "updated_at": "time", "unlock_at": "time",
         "due_at": "time", "lock_at": "time", "points_possible": "number", "quiz_type": "text", "time_limit": "count", "access_code": "text",
         "workflow_state": "text", "assignment_id": "id"}  # fmt: skip
_SUBMISSION = {"submission_id": "id", "assignment_id": "id", "user_id": "id", "submitted_at": "time", "updated_at": "time", "attempt": "count",
               "body": "text", "url": "url", "submission_type": "text", "workflow_state": "text", "grade": "text", "score": "number",
               "late": "bool", "missing": "bool", "lti_user_id": "text", "group_id": "id"}  # fmt: skip
_WIKI = {"wiki_page_id": "id", "title": "text", "body": "text", "old_title": "text", "old_body": "text"}
BODIES: dict[str, dict[str, str]] = {
    "asset_accessed": {"asset_type": "asset_type", "asset_id": "id", "asset_subtype": "subtype", "asset_name": "text", "category": "text",
                       "role": "text", "level": "text", "url": "url", "domain": "text", "filename": "text", "display_name": "text"},
    "assignment_created": _ASSIGNMENT,
    "assignment_override_created": _OVERRIDE,
    "assignment_override_updated": _OVERRIDE,
    "assignment_updated": _ASSIGNMENT,
    "attachment_created": _ATTACHMENT,
    "attachment_deleted": _ATTACHMENT,
    "attachment_updated": _ATTACHMENT,
    "course_created": _COURSE,
    "course_updated": _COURSE,
    "discussion_entry_created": {"discussion_entry_id": "id", "discussion_topic_id": "id", "parent_discussion_entry_id": "id", "user_id": "id",
                                 "created_at": "time", "text": "text"},
    "discussion_topic_created": {"discussion_topic_id": "id", "is_announcement": "bool", "title": "text", "body": "text", "assignment_id": "id",
                                 "context_id": "id", "context_type": "context_type", "workflow_state": "text", "lock_at": "time", "updated_at": "time"},
    "enrollment_created": _ENROLLMENT,
    "enrollment_state_created": _ENROLLMENT_STATE,
    "enrollment_state_updated": _ENROLLMENT_STATE,
    "enrollment_updated": _ENROLLMENT,
    "grade_change": {"submission_id": "id", "assignment_id": "id", "grade": "text", "old_grade": "text", "score": "number", "old_score": "number",
                     "points_possible": "number", "old_points_possible": "number", "grader_id": "id", "student_id": "id", "student_sis_id": "text",
                     "user_id": "id", "grading_complete": "bool", "muted": "bool"},
    "group_category_created": {"group_category_id": "id", "group_category_name": "text", "context_id": "id", "context_type": "context_type"},
    "group_created": {"group_id": "id", "group_name": "text", "group_category_id": "id", "group_category_name": "text", "context_id": "id",
                      "context_type": "context_type", "account_id": "id", "workflow_state": "text", "uuid": "text", "max_membership": "count"},
    "group_membership_created": {"group_membership_id": "id", "user_id": "id", "group_id": "id", "group_name": "text", "group_category_id": "id",
                                 "group_category_name": "text", "workflow_state": "text"},
    "logged_in": {"redirect_url": "url"},
    "logged_out": {},
    "quiz_created": _QUIZ,
    "quiz_submitted": {"submission_id": "id", "quiz_id": "id"},
    "quiz_updated": _QUIZ,
    "submission_created": _SUBMISSION,
    "submission_updated": _SUBMISSION,
    "syllabus_updated": {"course_id": "id", "syllabus_body": "text", "old_syllabus_body": "text"},
    "user_account_association_created": {"user_id": "id", "account_id": "id", "account_uuid": "text", "created_at": "time", "updated_at": "time",
                                         "is_admin": "bool", "user_name": "text"},
    "wiki_page_created": _WIKI,
    "wiki_page_deleted": _WIKI,
    "wiki_page_updated": _WIKI,
}  # fmt: skip

# The metadata fields, with their kind.
METADATA: dict[str, str] = {
    "event_name": "event_name", "event_time": "time", "hostname": "hostname", "request_id": "text", "user_id": "id", "real_user_id": "id",
    "user_login": "text", "user_sis_id": "text", "user_account_id": "id", "root_account_id": "id", "root_account_lti_guid": "text",
    "root_account_uuid": "text", "session_id": "id", "referrer": "url", "url": "url", "user_agent": "text", "client_ip": "text",
    "job_id": "id", "job_tag": "text", "context_type": "context_type", "context_id": "id", "context_role": "role", "context_account_id": "id",
    "context_sis_source_id": "text", "http_method": "text", "developer_key_id": "id", "producer": "text", "time_zone": "text",
}  # fmt: skip


def test_generated_bodies_cover_every_mapped_event_type() -> None:
    assert set(BODIES) == set(MAPPINGS)


def _global_id(rng: random.Random) -> str:
    return str(54320000000000000 + rng.randrange(10**7))


def _canonical_time(rng: random.Random) -> str:
    moment = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(366 * 86400), milliseconds=rng.randrange(1000))
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def _valid_time(rng: random.Random) -> str:
    moment = _canonical_time(rng)
    return rng.choice([moment, moment, moment[:19] + "Z", moment[:19] + "-06:00", moment[:10] + " " + moment[11:19] + " -0800", moment[:10] + " " + moment[11:19] + " UTC"])


def _url(rng: random.Random, host: str) -> str:
    return rng.choice(
        [
            f"https://{host}/courses/{rng.randrange(999)}/modules",
            f"https://{host}/api/v1/courses/{rng.randrange(999)}?access_token=s3cr3t{rng.randrange(99)}&per_page=10",
            f"https://{host}/files/7/download?download_frd=1;access_token=abc",
            f"https://{host}/x?a=1&access_token=&b=2#frag",
        ]
    )


def typical_value(rng: random.Random, kind: str, host: str = "canvas.northfield.edu") -> Any:
    """A value of that kind as Canvas sends it."""
    if kind == "id":
        return rng.choice([_global_id, _global_id, _global_id, lambda r: str(r.randrange(1, 99999)), lambda r: r.randrange(1, 99999)])(rng)
    if kind == "time":
        return _valid_time(rng)
    if kind == "date":
        return _canonical_time(rng)[:10]
    if kind == "text":
        return rng.choice(["Essay 2", "published", "online_text_entry", "Week notes", "<p>Write 500 words.</p>", "A-", "Alex Doe", "graded"])
    if kind == "number":
        return rng.choice([100.0, 20, 18.5, 0, 7.0, 12])
    if kind == "count":
        return rng.choice([1, 2, 3, 2.0, 60])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "url":
        return _url(rng, host)
    if kind == "context_type":
        return "Course"
    if kind == "asset_type":
        return rng.choice(ASSET_TYPES)
    if kind == "subtype":
        return rng.choice([None, None, "modules", "grades", "pages", "calendar_feed"])
    if kind == "role":
        return rng.choice(ROLES[:5])
    if kind == "hostname":
        return host
    if kind == "event_name":
        return rng.choice(sorted(MAPPINGS))
    raise AssertionError(kind)


def odd_value(rng: random.Random, kind: str) -> Any:
    """A value of that kind (or of any JSON type) that Canvas does not send, or rarely does."""
    if rng.random() < 0.2:
        return json_value(rng)
    if kind in ("id",):
        return weird_id(rng)
    if kind in ("time", "date"):
        return timestamp(rng)
    if kind in ("number", "count"):
        return number(rng)
    if kind == "bool":
        return rng.choice([True, False, None, 0, 1, "true", [], {}])
    if kind == "url":
        return rng.choice(
            [
                "https://h.example/?access_token=" + special_string(rng),
                "https://h.example/path?x=1&access_token=tok%20en&access_token=second",
                "access_token=at-start",
                "https://h.example/#access_token=in-fragment",
                "https://h.example/?ACCESS_TOKEN=upper",
                "https://h.example/?my_access_token=suffix",
                "https://h.example/?access_token=a\"b\\c d",
                special_string(rng),
                json_value(rng),
                5,
            ]
        )
    if kind == "context_type":
        return rng.choice(["Course", "course", "Account", "Group", "User", "CourseSection", "", " Course", None, 5, ["Course"], {"Course": 1}])
    if kind == "asset_type":
        return rng.choice(["", "a b", "new_thing", "quizzes:quiz", "x/y", "type\"q", "é", "\x00", 5, None, True, ["course"], fresh_name("asset")])
    if kind == "role":
        return rng.choice([*ROLES, None, 5, ["TeacherEnrollment"], "TeacherEnrollment "])
    if kind == "hostname":
        return rng.choice(["", " ", "a b", "bad\"host", "back\\slash", "tab\there", "host\x00", "{x}", "a|b", "é.example", "😀.example",
                           "canvas.example.edu:443", "https://canvas.example.edu/", 5, True, ["canvas.example.edu"], {"h": 1}, 1.5,
                           fresh_name("host") + ".example.edu", "\ud800.example"])  # fmt: skip
    if kind == "event_name":
        mapped = sorted(MAPPINGS)
        unmapped = sorted(CANVAS_EVENT_TYPES - set(MAPPINGS))
        return rng.choice(
            [rng.choice(mapped), rng.choice(unmapped), rng.choice(unmapped), "bogus_event", "outcomes.retry_outcome_alignment_clone", "Asset_Accessed",
             "asset_accessed ", "1bad", "", "a" * 129, 5, None, ["asset_accessed"], "asset\x00accessed", "ассет"]
        )  # fmt: skip
    return rng.choice([special_string(rng), special_string(rng), rng.randrange(100), None, True, 1.5, [], {}, json_value(rng)])


_fresh = itertools.count()


def fresh_name(prefix: str) -> str:
    """A name no cache has seen in this process."""
    return f"{prefix}{next(_fresh)}"


def request_metadata(rng: random.Random, name: str) -> dict[str, Any]:
    host = rng.choice(HOSTS[:3])
    metadata = {key: typical_value(rng, kind, host) for key, kind in METADATA.items() if kind not in ("event_name",)}
    metadata |= {
        "event_name": name,
        "event_time": _valid_time(rng),
        "session_id": format(rng.getrandbits(128), "032x"),
        "request_id": f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}",
        "user_login": "a.okafor@northfield.edu",
        "client_ip": "203.0.113.57",
        "http_method": rng.choice(["GET", "POST"]),
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "producer": "canvas",
    }
    for key in ("real_user_id", "job_id", "job_tag", "developer_key_id"):
        if rng.random() < 0.8:
            del metadata[key]
    if rng.random() < 0.15:  # anonymous request
        for key in ("user_id", "user_login", "user_sis_id", "context_role"):
            metadata.pop(key, None)
    return metadata


def job_metadata(rng: random.Random, name: str) -> dict[str, Any]:
    metadata = {
        "event_name": name,
        "event_time": _valid_time(rng),
        "job_id": str(rng.getrandbits(40)),
        "job_tag": "SIS::CSV::ImportRefactored#run_parallel_importer",
        "producer": "canvas",
        "root_account_id": _global_id(rng),
        "root_account_uuid": "Nf7qR2sT9uVwX4yZ1aB6cD8eF3gH5iJ0kL2mN4oP",
    }
    if rng.random() < 0.3:
        metadata |= {"context_type": "Course", "context_id": _global_id(rng)}
    if rng.random() < 0.2:
        metadata["user_id"] = _global_id(rng)
    return metadata


def generated_record(rng: random.Random, name: str) -> dict[str, Any]:
    metadata = job_metadata(rng, name) if rng.random() < 0.2 else request_metadata(rng, name)
    body = {key: typical_value(rng, kind, metadata.get("hostname", "canvas.northfield.edu")) for key, kind in BODIES[name].items() if rng.random() < 0.9}
    if name == "grade_change" and rng.random() < 0.5 and "user_id" in metadata:
        body["grader_id"] = metadata["user_id"]
    if rng.random() < 0.3:
        items = list(metadata.items())
        rng.shuffle(items)
        metadata = dict(items)
    return {"attributes" if rng.random() < 0.7 else "metadata": metadata, "body": body}


# ---------------------------------------------------------------- mutations


def _shape(record: dict[str, Any]) -> str | None:
    for key in ("attributes", "metadata"):
        if type(record.get(key)) is dict:
            return key
    return None


def _part(rng: random.Random, record: Any) -> tuple[dict[str, Any], dict[str, str]] | None:
    """Metadata or body (with its field kinds), when the record still has it as an object."""
    if type(record) is not dict:
        return None
    shape = _shape(record)
    name = record[shape].get("event_name") if shape else None
    options = []
    if shape:
        options.append((record[shape], METADATA))
    if type(record.get("body")) is dict:
        kinds = BODIES.get(name) if type(name) is str else None
        options.append((record["body"], kinds or {key: "text" for key in record["body"]} or {"user_id": "id"}))
    return rng.choice(options) if options else None


def _set_field(kinds_wanted: tuple[str, ...]) -> Callable[[random.Random, Any], Any]:
    """Give a field of one of those kinds (present or not) an odd value."""

    def mutate(rng: random.Random, record: Any) -> Any:
        found = _part(rng, record)
        if found is None:
            return record
        part, kinds = found
        keys = [key for key, kind in kinds.items() if kind in kinds_wanted]
        if keys:
            key = rng.choice(keys)
            part[key] = odd_value(rng, kinds[key])
        return record

    return mutate


def m_delete(rng: random.Random, record: Any) -> Any:
    found = _part(rng, record)
    if found and found[0]:
        del found[0][rng.choice(list(found[0]))]
    return record


def m_null(rng: random.Random, record: Any) -> Any:
    found = _part(rng, record)
    if found and found[0]:
        found[0][rng.choice(list(found[0]))] = None
    return record


def m_any_value(rng: random.Random, record: Any) -> Any:
    """Any field, read or not by the transform, gets any JSON value (objects and arrays included)."""
    found = _part(rng, record)
    if found:
        part, kinds = found
        key = rng.choice([*part, *kinds]) if (part or kinds) else "x"
        part[key] = json_value(rng) if rng.random() < 0.6 else special_string(rng)
    return record


def m_metadata(key: str) -> Callable[[random.Random, Any], Any]:
    def mutate(rng: random.Random, record: Any) -> Any:
        shape = _shape(record) if type(record) is dict else None
        if shape:
            record[shape][key] = odd_value(rng, METADATA[key]) if rng.random() < 0.8 else typical_value(rng, METADATA[key])
        return record

    return mutate


def m_body(key: str, kind: str) -> Callable[[random.Random, Any], Any]:
    def mutate(rng: random.Random, record: Any) -> Any:
        if type(record) is dict and type(record.get("body")) is dict:
            record["body"][key] = odd_value(rng, kind) if rng.random() < 0.8 else typical_value(rng, kind)
        return record

    return mutate


def m_job(rng: random.Random, record: Any) -> Any:
    """No request: job fields instead of hostname and request_id (actor, edApp and sensor change)."""
    shape = _shape(record) if type(record) is dict else None
    if shape:
        metadata = record[shape]
        for key in ("hostname", "request_id"):
            if rng.random() < 0.8:
                metadata.pop(key, None)
        metadata["job_id"] = odd_value(rng, "id") if rng.random() < 0.3 else str(rng.getrandbits(40))
        metadata["job_tag"] = odd_value(rng, "text") if rng.random() < 0.3 else "Course#save"
    return record


def m_no_actor(rng: random.Random, record: Any) -> Any:
    """No metadata.user_id: the body's user, the unknown Person or Canvas itself acts."""
    shape = _shape(record) if type(record) is dict else None
    if shape:
        record[shape].pop("user_id", None)
        if rng.random() < 0.5 and type(record.get("body")) is dict:
            record["body"]["user_id"] = typical_value(rng, "id") if rng.random() < 0.6 else weird_id(rng)
    return record


def m_grader(rng: random.Random, record: Any) -> Any:
    shape = _shape(record) if type(record) is dict else None
    if shape and type(record.get("body")) is dict:
        user_id = record[shape].get("user_id")
        record["body"]["grader_id"] = rng.choice([user_id, weird_id(rng), str(user_id), typical_value(rng, "id"), None])
        if rng.random() < 0.3:
            record[shape]["user_id"] = rng.choice([int(user_id) if type(user_id) is str and user_id.isdigit() else 7, weird_id(rng)])
    return record


def m_copy_body_field(rng: random.Random, record: Any) -> Any:
    """A field every object reads verbatim (a copy) becomes an object, an array, any JSON value."""
    if type(record) is dict and type(record.get("body")) is dict:
        key = rng.choice(["workflow_state", "type", "grade", "all_day", "is_admin", "state", "quiz_type", "time_limit", "access_code", "body",
                          "url", "filename", "context_type", "redirect_url", "asset_name", "asset_subtype", "submission_type", "user_name",
                          "is_announcement", "limit_privileges_to_course_section", "student_sis_id", "domain", "display_name"])  # fmt: skip
        record["body"][key] = json_value(rng)
    return record


def m_copy_metadata_field(rng: random.Random, record: Any) -> Any:
    shape = _shape(record) if type(record) is dict else None
    if shape:
        key = rng.choice(["user_login", "user_sis_id", "root_account_id", "root_account_lti_guid", "root_account_uuid", "request_id", "user_agent",
                          "client_ip", "job_id", "job_tag", "context_account_id", "http_method", "developer_key_id", "url"])  # fmt: skip
        record[shape][key] = json_value(rng)
    return record


def m_swap_shape(rng: random.Random, record: Any) -> Any:
    """attributes <-> metadata."""
    shape = _shape(record) if type(record) is dict else None
    if shape:
        other = "metadata" if shape == "attributes" else "attributes"
        record = {other if key == shape else key: value for key, value in record.items()}
    return record


def m_top_level(rng: random.Random, record: Any) -> Any:
    """Extra top-level keys, both shapes, no body, the body first."""
    if type(record) is not dict:
        return record
    shape = _shape(record) or "attributes"
    choice = rng.randrange(6)
    if choice == 0:
        record[rng.choice(["extra", "id", "body2", "Attributes", ""])] = json_value(rng)
    elif choice == 1:
        metadata = record.get(shape)
        record["metadata" if shape == "attributes" else "attributes"] = dict(metadata) if type(metadata) is dict else metadata
    elif choice == 2:
        record.pop("body", None)
    elif choice == 3:
        record = dict(reversed(list(record.items())))
    elif choice == 4:
        record.pop(shape, None)
    else:
        record[shape] = None
    return record


def m_non_object(rng: random.Random, record: Any) -> Any:
    """The body, the metadata or the record itself is not an object."""
    value = rng.choice([None, [], [{}], "body", 5, 1.5, True, json_value(rng, 1)])
    where = rng.randrange(3)
    if where == 0 and type(record) is dict:
        record["body"] = value
    elif where == 1 and type(record) is dict and _shape(record):
        record[_shape(record)] = value
    else:
        record = value if rng.random() < 0.7 else [record]
    return record


def m_cross_type(rng: random.Random, record: Any) -> Any:
    """Another mapped event's name on this body (fields of the wrong event, missing ids)."""
    shape = _shape(record) if type(record) is dict else None
    if shape:
        record[shape]["event_name"] = rng.choice(sorted(MAPPINGS))
    return record


def m_many_ints(rng: random.Random, record: Any) -> Any:
    """Integer ids everywhere (each one a new string for the writer to hold on to)."""
    found = _part(rng, record)
    if found:
        part, kinds = found
        for key, kind in kinds.items():
            if kind == "id" and key in part:
                part[key] = rng.randrange(10**15)
    return record


MUTATIONS: list[tuple[Callable[[random.Random, Any], Any], int]] = [
    (m_delete, 6),
    (m_null, 5),
    (m_any_value, 4),
    (_set_field(("id",)), 8),
    (_set_field(("time", "date")), 6),
    (_set_field(("number", "count")), 4),
    (_set_field(("text", "bool")), 3),
    (m_metadata("event_time"), 4),
    (m_metadata("hostname"), 4),
    (m_metadata("user_id"), 3),
    (m_metadata("real_user_id"), 3),
    (m_metadata("session_id"), 2),
    (m_metadata("context_type"), 2),
    (m_metadata("context_id"), 2),
    (m_metadata("context_role"), 3),
    (m_metadata("url"), 2),
    (m_metadata("referrer"), 2),
    (m_metadata("event_name"), 3),
    (m_metadata("request_id"), 1),
    (m_body("asset_type", "asset_type"), 3),
    (m_body("asset_id", "id"), 1),
    (m_body("asset_subtype", "text"), 1),
    (m_body("context_type", "context_type"), 2),
    (m_body("context_id", "id"), 1),
    (m_body("course_id", "id"), 1),
    (m_body("course_section_id", "id"), 1),
    (m_body("user_id", "id"), 2),
    (m_job, 2),
    (m_no_actor, 3),
    (m_grader, 2),
    (m_copy_body_field, 3),
    (m_copy_metadata_field, 3),
    (m_swap_shape, 2),
    (m_top_level, 2),
    (m_non_object, 1),
    (m_cross_type, 2),
    (m_many_ints, 1),
]
_MUTATORS = [mutation for mutation, _ in MUTATIONS]
_WEIGHTS = [weight for _, weight in MUTATIONS]


def mutated(rng: random.Random, record: Any) -> Any:
    for mutation in rng.choices(_MUTATORS, _WEIGHTS, k=rng.choice([0, 1, 1, 2, 2, 3, 4, 6])):
        record = mutation(rng, record)
    return record


def _copy(value: Any) -> Any:
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return value


def corrupt(rng: random.Random, raw: bytes) -> bytes:
    """JSON bytes that are not JSON (or not a record)."""
    return rng.choice(
        [
            lambda: raw[: rng.randrange(len(raw) + 1)],
            lambda: raw + b"}",
            lambda: raw + b" x",
            lambda: raw.replace(b":", b"=", 1),
            lambda: raw[:10] + b"\xff\xfe" + raw[10:],
            lambda: raw.replace(b'"', b"'", 2),
            lambda: b"",
            lambda: b"   ",
            lambda: b"null",
            lambda: b"[]",
            lambda: b'"text"',
            lambda: b"NaN",
            lambda: b"{" * 2000,
            lambda: b"[" * 2000 + b"]" * 2000,
            lambda: b'{"attributes": {}, "body": {}, "attributes": {}}',
            lambda: b'{"attributes":{"event_name":"course_created","event_time":"2024-01-01T00:00:00Z"},"body":{"course_id":"1\\ud800"}}',
            lambda: "\ufeff".encode() + raw,
        ]
    )()


# ---------------------------------------------------------------- the generated comparisons

#: Records per group (one group per mapped event type, one for the fixtures); x LIVEEVENTS_NATIVE_SCALE.
RECORDS_PER_TYPE = max(1, int(250 * SCALE))
RECORDS_FROM_FIXTURES = max(1, int(2000 * SCALE))


def case_rng(group: str, index: int) -> tuple[random.Random, str]:
    seed = f"{SEED}/{group}/{index}"
    return random.Random(seed), seed


def generated_cases(group: str) -> Iterator[tuple[str, random.Random, Any]]:
    if group == "fixtures":
        for index in range(RECORDS_FROM_FIXTURES):
            rng, seed = case_rng(group, index)
            yield seed, rng, mutated(rng, _copy(rng.choice(FIXTURE_RECORDS)[1]))
    else:
        for index in range(RECORDS_PER_TYPE):
            rng, seed = case_rng(group, index)
            yield seed, rng, mutated(rng, generated_record(rng, group))


@dataclass
class Tally:
    compared: int = 0
    written: int = 0
    declined: int = 0
    raised: int = 0
    failures: list[str] | None = None

    def add(self, where: str, form: str, pair: Pair, record: object, result: Comparison) -> None:
        self.compared += 1
        self.written += result.written
        self.declined += not result.written
        self.raised += result.python[0] == "raises"
        if not result.same:
            self.failures = (self.failures or []) + [divergence(where, form, pair, record, result)]

    def check(self) -> None:
        failures = self.failures or []
        assert not failures, f"{len(failures)} divergence(s) in {self.compared} comparisons; the first:\n" + "\n\n".join(failures[:3])


def run_generated(group: str) -> Tally:
    tally = Tally()
    for seed, rng, record in generated_cases(group):
        pair = rng.choice(PAIRS)
        where = f"generated record, seed {seed!r} (random.Random({seed!r}); group {group!r})"
        for form, fresh in forms(record, rng, all_forms=False):
            tally.add(where, form, pair, record, compare(pair, fresh))
        text = json_text(record)
        if text is not None and rng.random() < 0.05:
            raw = corrupt(rng, text.encode("utf-8", "surrogatepass"))
            tally.add(where + " (corrupted JSON bytes)", "bytes", pair, raw, compare(pair, lambda: raw))
    return tally


@pytest.mark.parametrize("group", ["fixtures", *sorted(MAPPINGS)])
def test_mutated_records_give_the_same_answer(group: str) -> None:
    tally = run_generated(group)
    tally.check()
    # Not vacuous: the writer wrote a good share itself, and the Python path answered the rest.
    assert tally.written >= tally.compared * 0.2, f"{group}: the writer wrote only {tally.written} of {tally.compared}"
    assert tally.declined > 0 and tally.raised > 0, f"{group}: no record was left to the Python path ({tally})"


# ---------------------------------------------------------------- hand-picked inputs


def _minimal(name: str = "asset_accessed", **metadata: Any) -> dict[str, Any]:
    body = {
        "asset_accessed": {"asset_type": "course", "asset_id": "5"},
        "grade_change": {"submission_id": "9", "assignment_id": "3", "grader_id": "12", "score": 18.0, "points_possible": 20, "grade": "18"},
    }.get(name, {})
    return {
        "attributes": {"event_name": name, "event_time": "2024-10-01T10:00:00.000Z", "hostname": "canvas.northfield.edu", "user_id": "12"} | metadata,
        "body": dict(body),
    }


HAND_PICKED: list[tuple[str, Any]] = [
    ("not an object", [1, 2]),
    ("null", None),
    ("a string", "asset_accessed"),
    ("empty object", {}),
    ("no body", {"attributes": _minimal()["attributes"]}),
    ("body a list", {"attributes": _minimal()["attributes"], "body": []}),
    ("metadata a string", {"attributes": "x", "body": {}}),
    ("both shapes", {"attributes": _minimal()["attributes"], "metadata": _minimal()["attributes"], "body": {}}),
    ("extra key", _minimal() | {"extra": 1}),
    ("attributes null, metadata", {"attributes": None, "metadata": _minimal()["attributes"]}),
    ("unmapped", _minimal("account_notification_created")),
    ("unknown name", _minimal("no_such_event")),
    ("name not a string", _minimal(event_name=5)),
    ("event_time missing", {"attributes": {"event_name": "asset_accessed"}, "body": {"asset_type": "course", "asset_id": "5"}}),
    ("event_time hour 24", _minimal(event_time="2024-10-01T24:00:00.000Z")),
    ("event_time second 60", _minimal(event_time="2024-10-01T23:59:60.000Z")),
    ("event_time month 13", _minimal(event_time="2024-13-01T10:00:00.000Z")),
    ("event_time year 0", _minimal(event_time="0000-01-01T10:00:00.000Z")),
    ("event_time 29 Feb 2023", _minimal(event_time="2023-02-29T10:00:00.000Z")),
    ("event_time 29 Feb 2024", _minimal(event_time="2024-02-29T10:00:00.000Z")),
    ("event_time Ruby", _minimal(event_time="2019-10-05 05:38:00 -0800")),
    ("event_time UTC", _minimal(event_time="2019-10-05 13:38:00 UTC")),
    ("event_time bare date", _minimal(event_time="2019-10-05")),
    ("hostname empty", _minimal(hostname="")),
    ("hostname with space", _minimal(hostname="canvas example.edu")),
    ("hostname a number", _minimal(hostname=5)),
    ("hostname a lone surrogate", _minimal(hostname="\ud800.example")),
    ("user_id a lone surrogate", _minimal(user_id="\ud800")),
    ("user_login a lone surrogate", _minimal(user_login="a\udfffb")),
    ("user_id big int", _minimal(user_id=2**64 + 1)),
    ("user_id u64", _minimal(user_id=2**64 - 1)),
    ("user_id negative", _minimal(user_id=-5)),
    ("user_id bool", _minimal(user_id=True)),
    ("user_id float", _minimal(user_id=12.0)),
    ("user_id Arabic-Indic digits", _minimal(user_id="١٢")),
    ("user_id with space", _minimal(user_id="1 2")),
    ("user_id empty", _minimal(user_id="")),
    ("real_user_id", _minimal(real_user_id="99")),
    ("real_user_id bad", _minimal(real_user_id="9 9")),
    ("NaN and infinities", _minimal(user_login=float("nan"), user_sis_id=float("inf"), client_ip=float("-inf"))),
    ("control characters", _minimal(user_agent="".join(map(chr, range(32))) + "\x7f\u2028")),
    ("token in url", _minimal(url="https://h/x?access_token=abc&b=1", referrer="https://h/?a=1;access_token=zz")),
    ("token without separator", _minimal(url="access_token=abc", referrer="https://h/access_token=abc")),
    ("grade_change by the acting user", _minimal("grade_change")),
    ("grade_change by another grader", _minimal("grade_change", user_id="13")),
    ("grade_change int grader", _minimal("grade_change") | {"body": {"submission_id": "9", "grader_id": 12}}),
    ("grade_change job", {"attributes": {"event_name": "grade_change", "event_time": "2024-10-01T10:00:00Z", "job_id": "1"}, "body": {"submission_id": "9", "grader_id": "4"}}),
    ("score 1e300", _minimal("grade_change") | {"body": {"submission_id": "9", "score": 1e300}}),
    ("score big integral float", _minimal("grade_change") | {"body": {"submission_id": "9", "score": 1.5e19, "points_possible": 1e20}}),
]  # fmt: skip


@pytest.mark.parametrize(("label", "record"), HAND_PICKED, ids=[label for label, _ in HAND_PICKED])
def test_hand_picked_inputs(label: str, record: Any) -> None:
    for pair in PAIRS:
        for form, fresh in forms(record):
            result = compare(pair, fresh)
            assert result.same, divergence(label, form, pair, record, result)


def test_other_byte_types() -> None:
    """bytearray and memoryview hold JSON as bytes do (the Python path decodes them)."""
    for case_id, record in FIXTURE_RECORDS[::4]:
        raw = orjson.dumps(record)
        for pair in PAIRS[::3]:
            for form, make in (("bytearray", lambda: bytearray(raw)), ("memoryview", lambda: memoryview(raw))):
                result = compare(pair, make)
                assert result.same, divergence(f"fixture {case_id}", form, pair, record, result)
                assert result.compiled == ("bytes", reference(pair.python, raw, SEND_TIME))


@pytest.mark.parametrize("domain", ['a"b', "back\\slash", "é.example", "tab\there", "\x00", "\ud800", " ", "x" * 300, "😀"])
def test_unusual_canvas_domains(domain: str) -> None:
    """canvas_domain is the sensor of job events: written escaped (or refused) alike."""
    job = {"attributes": {"event_name": "course_created", "event_time": "2024-10-01T10:00:00Z", "job_id": "7"}, "body": {"course_id": "1"}}
    for profile in ("canvas", "strict"):
        pair = _pair(profile=profile, canvas_domain=domain)
        for record in (job, _minimal()):
            for form, fresh in forms(record):
                result = compare(pair, fresh)
                assert result.same, divergence(f"canvas_domain {domain!r}", form, pair, record, result)


@pytest.mark.parametrize("redact", [1, "yes", [0], 0, "", None], ids=repr)
def test_option_values_that_are_not_booleans(redact: object) -> None:
    """redact_tokens is read for its truth, as the Python path's ``if redact`` reads it."""
    pair = _pair(redact_tokens=redact)
    tokens = [
        _minimal(url="https://h.example/x?access_token=abc&b=1", referrer="https://h.example/?a=1;access_token=zz"),
        _minimal("logged_in", url=5, referrer="https://h.example/?access_token=zz"),
        *(record for _, record in FIXTURE_RECORDS if b"access_token" in orjson.dumps(record)),
    ]
    for record in tokens:
        for form, fresh in forms(record):
            result = compare(pair, fresh)
            assert result.same, divergence(f"redact_tokens={redact!r}", form, pair, record, result)


INVALID_JSON = [b"", b"{", b'{"attributes": }', b"\xff", b"NaN", b"[1,]", b'{"a":1}x', "{\"attributes\": \"\ud800\"}", b"\xef\xbb\xbf{}"]


@pytest.mark.parametrize("raw", INVALID_JSON, ids=range(len(INVALID_JSON)))
def test_invalid_json(raw: bytes | str) -> None:
    for pair in PAIRS[:2]:
        result = compare(pair, lambda: raw)
        assert result.same, divergence("invalid JSON", type(raw).__name__, pair, raw, result)
        assert result.python[0] == "raises"


# ---------------------------------------------------------------- caches


def _check_both_paths_in_turn(transformer: CaliperTransformer, python: CaliperTransformer, record: Any, first: str, where: str) -> None:
    """``transformer``'s two paths, ``first`` first, then the other, twice over, all answer as ``python`` does."""
    expected = outcome(lambda: reference(python, record, SEND_TIME))
    calls = {
        "envelope_json": lambda: transformer.envelope_json(record, SEND_TIME),
        "envelope": lambda: orjson.dumps(transformer.envelope(record, SEND_TIME)),
    }
    order = [first, *(name for name in calls if name != first)]
    for name in [*order, *order]:
        assert outcome(calls[name]) == expected, f"{where}, {name} after {order}"


@pytest.mark.parametrize("first", ["envelope_json", "envelope"])
def test_host_name_first_seen_by_either_path(first: str) -> None:
    """Each transformer remembers host names (both paths share the cache): whichever path sees a
    host first, the other answers the same; a refused one is never remembered."""
    transformer = CaliperTransformer()
    python = CaliperTransformer(compiled=False)
    hosts = [fresh_name("first-") + ".example.edu", fresh_name("Ünï-") + ".example", "", "bad host", fresh_name("x") + ' "q"']
    for host in hosts:
        for record in (_minimal(hostname=host), _minimal("course_created", hostname=host) | {"body": {"course_id": "1"}}):
            _check_both_paths_in_turn(transformer, python, record, first, f"host {host!r}")


@pytest.mark.parametrize("first", ["envelope_json", "envelope"])
def test_asset_type_first_seen_by_either_path(first: str) -> None:
    """The asset types are remembered for every transformer (navigation.ASSET_KINDS)."""
    transformer = CaliperTransformer(profile="strict")
    python = CaliperTransformer(profile="strict", compiled=False)
    for asset_type in [fresh_name("fresh_asset_"), fresh_name("Ünï:"), "", "bad type", fresh_name('q"') , fresh_name("x\\")]:
        for subtype in (None, "sub", 5):
            record = _minimal() | {"body": {"asset_type": asset_type, "asset_id": "5", "asset_subtype": subtype}}
            _check_both_paths_in_turn(transformer, python, record, first, f"asset_type {asset_type!r}")


def test_caches_beyond_their_bound() -> None:
    """Past 1024 host names (and asset types) nothing more is remembered: both paths still agree."""
    transformer = CaliperTransformer()
    python = CaliperTransformer(compiled=False)
    for index in range(1100):
        record = _minimal(hostname=fresh_name("bound-") + ".example.edu") | {"body": {"asset_type": fresh_name("bound_"), "asset_id": str(index)}}
        if index % 2:
            transformer.envelope(record, SEND_TIME)
        assert transformer.envelope_json(record, SEND_TIME) == reference(python, record, SEND_TIME), f"record {index}: {record!r}"


# ---------------------------------------------------------------- CanvasEvent input


@pytest.mark.parametrize(("case_id", "record"), FIXTURE_RECORDS[::3], ids=[case_id for case_id, _ in FIXTURE_RECORDS[::3]])
def test_canvas_event_with_and_without_its_event_id(case_id: str, record: dict[str, Any]) -> None:
    pair = PAIRS[0]
    expected = reference(pair.python, record, SEND_TIME)
    event = parse_record(record)
    assert event.known_event_id is None
    assert pair.compiled.envelope_json(event, SEND_TIME) == expected  # the writer computes the id
    assert event.known_event_id is None, "the writer does not store the id it computed"
    assert written_by_writer(pair.compiled, event, SEND_TIME) == expected
    event.event_id  # noqa: B018
    assert event.known_event_id is not None
    assert pair.compiled.envelope_json(event, SEND_TIME) == expected  # the writer takes the known id
    assert written_by_writer(pair.compiled, event, SEND_TIME) == expected
    # Built directly: neither time nor id known.
    direct = CanvasEvent(record["attributes"], record["body"])
    assert direct.known_event_time is None
    assert pair.compiled.envelope_json(direct, SEND_TIME) == expected
    assert written_by_writer(pair.compiled, direct, SEND_TIME) == expected


def test_canvas_event_built_with_an_unusual_event_time() -> None:
    """CanvasEvent(metadata, body, event_time): the given time is taken as normalised."""
    metadata = {"event_name": "course_created", "event_time": "2024-10-01 10:00:00 -0700", "hostname": "canvas.northfield.edu"}
    for given in (None, "2024-10-01T17:00:00.000Z", "not normalised at all", "2024-10-01 10:00:00 -0700"):
        for pair in PAIRS[:4]:
            result = compare(pair, lambda: CanvasEvent(metadata, {"course_id": "5"}, given))
            assert result.same, divergence(f"CanvasEvent(..., event_time={given!r})", "CanvasEvent", pair, metadata, result)


def test_canvas_event_built_with_an_empty_event_time() -> None:
    metadata = {"event_name": "course_created", "event_time": "2024-10-01 10:00:00 -0700", "hostname": "canvas.northfield.edu"}
    pair = PAIRS[0]
    result = compare(pair, lambda: CanvasEvent(metadata, {"course_id": "5"}, ""))
    assert result.same, divergence("CanvasEvent(metadata, body, event_time='')", "CanvasEvent", pair, metadata, result)


def test_canvas_event_with_other_types() -> None:
    """A CanvasEvent whose parts are not plain dicts (built by a Python caller)."""

    class Metadata(dict):  # type: ignore[type-arg]
        pass

    metadata = _minimal()["attributes"]
    events = [
        lambda: CanvasEvent(Metadata(metadata), {"asset_type": "course", "asset_id": "5"}),
        lambda: CanvasEvent(metadata, Metadata({"asset_type": "course", "asset_id": "5"})),
        lambda: CanvasEvent(metadata, []),  # type: ignore[arg-type]
        lambda: CanvasEvent({"event_name": "asset_accessed"}, {}),
        lambda: CanvasEvent({"event_time": "2024-10-01T10:00:00.000Z"}, {}),
        lambda: CanvasEvent({"event_name": 5, "event_time": "2024-10-01T10:00:00.000Z"}, {}),
        lambda: CanvasEvent({"event_name": ["x"], "event_time": "2024-10-01T10:00:00.000Z"}, {}),
        lambda: CanvasEvent(metadata | {"event_time": 5}, {"asset_type": "course", "asset_id": "5"}),
        lambda: CanvasEvent(metadata, {"asset_type": "course", "asset_id": "5", "when": datetime(2024, 1, 1, tzinfo=timezone.utc)}),
        lambda: CanvasEvent(metadata, {"asset_type": "course", "asset_id": "5", 1: "int key"}),
        lambda: CanvasEvent(metadata, {"asset_type": "course", "asset_id": "5", "asset_name": ("a", 1)}),
    ]
    for index, make in enumerate(events):
        for pair in PAIRS[:4]:
            result = compare(pair, make)
            assert result.same, divergence(f"CanvasEvent #{index}", "CanvasEvent", pair, make(), result)


# ---------------------------------------------------------------- nesting


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("where", ["metadata.user_login", "metadata.url", "body.asset_name", "body.url"])
def test_values_nested_near_the_depth_limit(where: str) -> None:
    part, key = where.split(".")
    failures = []
    for depth in range(230, 260):
        record = _minimal()
        record["attributes" if part == "metadata" else "body"][key] = _nested(depth)
        for pair in PAIRS[:1]:
            for form, fresh in forms(record):
                result = compare(pair, fresh)
                if not result.same:
                    failures.append(f"depth {depth}, {form}: envelope_json {show(result.compiled)[:60]}... / Python {show(result.python)[:100]}")
    assert not failures, f"{where}: {len(failures)} divergences:\n" + "\n".join(failures[:8])


# ---------------------------------------------------------------- switched off; the benchmark's records


def test_switched_off_with_the_environment_variable() -> None:
    """LIVEEVENTS_NATIVE=0: no program, everything in Python, the same bytes and errors."""
    records = [record for _, record in FIXTURE_RECORDS] + [_minimal(hostname="bad host"), _minimal("no_such_event")]
    script = (
        "import sys, orjson\n"
        "from datetime import datetime, timezone\n"
        "from liveevents.caliper import native\n"
        "from liveevents.caliper.envelope import CaliperTransformer, caliper_envelope_json\n"
        "sent = datetime(2024, 9, 16, 14, 5, 9, 31999, tzinfo=timezone.utc)\n"
        "transformer = CaliperTransformer(profile='strict', canvas_domain='canvas.example.edu')\n"
        "def run(call):\n"
        "    try:\n"
        "        return ['bytes', call().decode()]\n"
        "    except Exception as error:\n"
        "        return ['raises', type(error).__name__, str(error)]\n"
        "out = {'available': native.AVAILABLE, 'program': transformer._program is not None, 'results': []}\n"
        "for raw in orjson.loads(sys.stdin.buffer.read()):\n"
        "    data = raw.encode()\n"
        "    out['results'].append([run(lambda: transformer.envelope_json(data, sent)), run(lambda: caliper_envelope_json(orjson.loads(data), send_time=sent))])\n"
        "sys.stdout.buffer.write(orjson.dumps(out))\n"
    )
    environment = dict(os.environ, LIVEEVENTS_NATIVE="0")
    completed = subprocess.run(
        [sys.executable, "-c", script],
        input=orjson.dumps([orjson.dumps(record).decode() for record in records]),
        capture_output=True,
        cwd=PROJECT_ROOT,
        env=environment,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    answer = orjson.loads(completed.stdout)
    assert answer["available"] is False
    assert answer["program"] is False
    strict = CaliperTransformer(profile="strict", canvas_domain="canvas.example.edu", compiled=False)
    default = CaliperTransformer(compiled=False)
    for record, (by_transformer, by_function) in zip(records, answer["results"], strict=True):
        for transformer, got in ((strict, by_transformer), (default, by_function)):
            expected = outcome(lambda: reference(transformer, record, SEND_TIME))
            expected_json = ["bytes", expected[1].decode()] if expected[0] == "bytes" else ["raises", expected[1].__name__, expected[2]]
            assert got == expected_json, f"record {record!r}"


def test_a_program_the_writer_was_not_built_for_is_refused_saying_to_rebuild() -> None:
    """native.py and a stale build of _native.c (an editable install, the C file edited since):
    a loud error saying what to do, not a wrong envelope."""
    program = CaliperTransformer()._program
    assert program is not None
    with pytest.raises(TypeError) as caught:
        native.render_bytes(program[:-1], b"{}", "2024-09-16T14:05:09.031Z")
    assert str(caught.value) == (
        f"program: {len(program) - 1} items, where the compiled writer reads {len(program)}: native.py and the build of "
        "_native.c are from different versions; rebuild the writer (pip install -e .)"
    )
    with pytest.raises(TypeError) as caught:
        native.render_bytes(list(program), b"{}", "2024-09-16T14:05:09.031Z")
    assert str(caught.value) == "program: expected the tuple native.py compiles, not list"


def _bench_transform() -> Any:
    path = PROJECT_ROOT / "bench" / "transform.py"
    spec = importlib.util.spec_from_file_location("_bench_transform_for_test_native", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmarks_realistic_mix() -> None:
    """The 2000 records bench/transform.py measures: the same bytes, every one written by the
    writer itself (else the benchmark would time the Python path)."""
    records = _bench_transform().realistic_mix(2000)
    assert len(records) == 2000
    for pair in (PAIRS[0], PAIRS[-1]):
        declined = []
        for index, raw in enumerate(records):
            result = compare(pair, lambda: raw)
            assert result.same, divergence(f"realistic_mix record {index}", "bytes", pair, raw, result)
            if not result.written:
                declined.append(index)
        assert not declined, f"{pair.label}: the writer declined {len(declined)} records of the mix, e.g. {records[declined[0]]!r}"
