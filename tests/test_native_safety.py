"""Memory safety and option handling of the compiled envelope writer (liveevents/caliper/_native.c).

The writer must write the Python path's bytes or hand over (None); it must never read freed
memory.  Two of its caches are shared dicts that Python code fills: ``Origins`` (host name ->
(edApp id, sensor)) and ``navigation.ASSET_KINDS`` (asset type -> (URN prefix, type)).  When two
threads render the first events of a new host (or asset type) at once, both run ``__missing__``
and the second replaces the entry the first stored, freeing it, while a third render may hold
it.  Delivery renders in a thread pool, so the writer must hold its own reference.  The tests
replay that interleaving in one thread: a record key whose ``__eq__`` (run by the writer's dict
look-up) replaces the cached entry and reuses the freed memory, as the other thread would.
They run in a subprocess: before the fix the writer read freed memory (wrong bytes or a crash).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from liveevents.caliper import native
from liveevents.caliper.envelope import CaliperTransformer

from .helpers.records import canvas_record

pytestmark = pytest.mark.skipif(not native.AVAILABLE, reason="the compiled writer is not built")

ROOT = Path(__file__).resolve().parent.parent
SEND_TIME = datetime(2024, 9, 16, 14, 5, 9, 31999, tzinfo=timezone.utc)


def _run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True, text=True, timeout=120)


_PRELUDE = """
    from datetime import datetime, timezone
    from liveevents.caliper import native
    from liveevents.caliper.context import Memberships
    from liveevents.caliper.origin import Origins
    from liveevents.canvas.record import parse_record
    from tests.helpers.records import canvas_record

    SENT = "2024-09-16T14:05:09.031Z"
    origins = Origins("www.canvaslms.com", "www.canvaslms.com")
    program = native.compile_program(strict=False, origins=origins, memberships=Memberships(), redact_tokens=True)
    keep = []
"""


def test_a_cached_origin_replaced_during_a_render_is_not_read_after_it_is_freed() -> None:
    result = _run(
        _PRELUDE
        + """
    host = "canvas.race.example.edu"
    record = canvas_record(1, event_name="asset_accessed")
    record["attributes"]["hostname"] = host
    assert native.render_record(program, record, SENT) is not None   # caches the host
    del record["attributes"]["user_id"]
    event = parse_record(record)
    event.event_id

    class OtherThread:  # its Origins.__missing__ for the same new host stores a fresh tuple
        fired = False
        def __hash__(self):
            return hash("user_id")
        def __eq__(self, other):
            if not OtherThread.fired:
                OtherThread.fired = True
                url = "http://" + host + "/"
                origins[host] = (url, url)
                keep.extend("Z" * (len(url) - 1) + str(i % 10) for i in range(200))  # reuses freed memory
                keep.extend((object(), object()) for _ in range(200))
            return False

    event.metadata[OtherThread()] = 1
    written = native.render_event(program, event.metadata, event.body, event.known_event_time, event.known_event_id, SENT)
    assert OtherThread.fired
    print(written.decode())
    """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith('{"sensor":"http://canvas.race.example.edu/","sendTime":"2024-09-16T14:05:09.031Z",'), result.stdout[:300]
    assert '"edApp":{"id":"http://canvas.race.example.edu/","type":"SoftwareApplication"}' in result.stdout, result.stdout[:2000]


def test_a_cached_asset_kind_replaced_during_a_render_is_not_read_after_it_is_freed() -> None:
    result = _run(
        _PRELUDE
        + """
    from liveevents.caliper.objects.navigation import ASSET_KINDS

    record = canvas_record(1, event_name="asset_accessed")
    record["body"].update({"asset_type": "wiki_page", "asset_id": "5-1"})   # "5-1": canvas_id, Python code, runs
    assert native.render_record(program, record, SENT) is not None   # caches wiki_page
    event = parse_record(record)
    event.event_id

    class OtherThread:  # its _AssetKinds.__missing__ for the same new asset type stores a fresh tuple
        armed = fired = False
        def __hash__(self):
            return hash("asset_id")
        def __eq__(self, other):
            if OtherThread.armed and not OtherThread.fired:
                OtherThread.fired = True
                ASSET_KINDS["wiki_page"] = ("urn:instructure:canvas:" + "wikiPage:", "Page")
                keep.extend(("urn:WRONG:" + str(i), "Wrong" + str(i)) for i in range(200))  # reuses the freed tuple
            return False

    body = event.body
    fields = dict(body)
    body.clear()
    body[OtherThread()] = 1   # first, so the look-up of asset_id meets it
    body.update(fields)
    OtherThread.armed = True
    written = native.render_event(program, event.metadata, body, event.known_event_time, event.known_event_id, SENT)
    assert OtherThread.fired
    print(written.decode())
    """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"object":{"id":"urn:instructure:canvas:wikiPage:5-1","type":"Page","extensions":{"com.instructure.canvas":{' in result.stdout, (
        result.stdout[:2000]
    )


def test_a_record_value_removed_during_a_render_is_not_read_after_it_is_freed() -> None:
    # The caller's own record changes while the writer runs Python code (another thread, or a
    # key's __eq__ as here): the user id it already read must stay alive until it is written.
    result = _run(
        _PRELUDE
        + """
    record = canvas_record(1, event_name="asset_accessed")
    record["attributes"]["user_id"] = "".join(["7"] * 15)   # a fresh str: the record holds the only reference
    event = parse_record(record)
    event.event_id

    class OtherThread:
        armed = fired = False
        def __hash__(self):
            return hash("user_login")   # looked up after user_id, before the id is written
        def __eq__(self, other):
            if OtherThread.armed and not OtherThread.fired:
                OtherThread.fired = True
                del event.metadata["user_id"]
                keep.extend("X" * 14 + str(i % 10) for i in range(200))  # reuses the freed memory
            return False

    metadata = event.metadata
    fields = dict(metadata)
    metadata.clear()
    metadata[OtherThread()] = 1
    metadata.update(fields)
    del fields
    OtherThread.armed = True
    written = native.render_event(program, metadata, event.body, event.known_event_time, event.known_event_id, SENT)
    assert OtherThread.fired
    print(written.decode())
    """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"actor":{"id":"urn:instructure:canvas:user:777777777777777","type":"Person"' in result.stdout, result.stdout[:2000]
    assert '"entity_id":"777777777777777"}}}' in result.stdout, result.stdout[:2000]


def test_a_str_subclass_context_type_equal_to_course_gets_the_course_group_as_in_python() -> None:
    # Python's `context_type != "Course"` lets a str subclass (an enum) equal to "Course" through.
    from enum import StrEnum

    class ContextType(StrEnum):
        COURSE = "Course"

    record = canvas_record(1, event_name="asset_accessed")
    record["attributes"].update({"context_type": ContextType.COURSE, "context_id": "123"})
    written = CaliperTransformer().envelope_json(record, SEND_TIME)
    assert b'"group":{"id":"urn:instructure:canvas:course:123","type":"CourseOffering"' in written
    assert written == CaliperTransformer(compiled=False).envelope_json(record, SEND_TIME)


def test_a_truthy_redact_tokens_blanks_access_tokens_as_the_python_path_does() -> None:
    record = canvas_record(3, event_name="asset_accessed")
    record["attributes"]["url"] = "https://canvas.example.edu/courses/417/files?access_token=SECRET1&page=2"
    record["attributes"]["referrer"] = "https://canvas.example.edu/courses/417?access_token=SECRET2"
    written = CaliperTransformer(redact_tokens=1).envelope_json(record, SEND_TIME)  # type: ignore[arg-type]
    assert b"SECRET" not in written
    assert b'"referrer":"https://canvas.example.edu/courses/417?access_token=[FILTERED]"' in written
    assert b'"request_url":"https://canvas.example.edu/courses/417/files?access_token=[FILTERED]&page=2"' in written
    kept = CaliperTransformer(redact_tokens=0).envelope_json(record, SEND_TIME)  # type: ignore[arg-type]
    assert b"access_token=SECRET1&page=2" in kept and b"access_token=SECRET2" in kept
