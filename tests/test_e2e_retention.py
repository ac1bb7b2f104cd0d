"""Retention against undelivered events across a downtime: the first purge at start-up deletes
no event a subscription has not had without it being listed as a failed delivery (``retention``)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from liveevents.canvas.record import parse_record
from tests.helpers.delivery import FAST_DELIVERY, put, subscribe, wait_until
from tests.helpers.service import ServedInstance
from tests.receivers.events import logged_in
from tests.receivers.server import LoopbackServer, Reply


def _failed(service: ServedInstance, subscription_id: str) -> list[dict]:
    return service.admin_get(f"/api/v1/subscriptions/{subscription_id}/deliveries", state="failed", limit=1000)["deliveries"]


def test_a_restart_after_a_downtime_longer_than_retention_lists_every_purged_event_a_subscription_missed(tmp_path: Path) -> None:
    records = [logged_in(number) for number in range(1, 9)]
    ids = {parse_record(record).event_id for record in records}
    with LoopbackServer({"/hook": lambda request: Reply(200)}) as server:
        with ServedInstance.start(tmp_path / "data", env=FAST_DELIVERY) as before:
            paused = subscribe(before, name="paused", delivery_method="https", url=server.url("/hook"), event_types=["logged_in"], active=False)
            put(before, records)
            assert before.admin_get("/api/v1/stats")["events_stored"] == 8
        time.sleep(1.5)  # the downtime: every event is older than the retention of the restart

        # Retention 1 s; the service's purge runs at once at start-up (then hourly).
        env = {**FAST_DELIVERY, "LIVEEVENTS_RETENTION_DAYS": str(1 / 86400)}
        with ServedInstance.start(tmp_path / "data", port=before.port, env=env) as after:
            wait_until(lambda: after.admin_get("/api/v1/stats")["events_stored"] == 0)
            failed = _failed(after, paused["id"])
            [stats] = after.admin_get("/api/v1/stats")["subscriptions"]
            view = httpx.get(f"{after.url}/api/v1/subscriptions/{paused['id']}", headers=after.admin_headers()).json()

    assert sorted(d["event_id"] for d in failed) == sorted(ids)
    assert {(d["last_error"], d["attempts"], d["state"]) for d in failed} == {("retention", 0, "failed")}
    assert failed[0]["last_detail"] == (
        "purged from the log by retention (retention_days = 1.15741e-05) before it was delivered: the subscription was inactive"
    )
    assert (stats["failed"], stats["backlog"], stats["delivered"]) == (8, 0, 0)
    assert view["active"] is False
    assert server.received("/hook") == []
