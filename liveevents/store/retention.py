"""Retention: purge what is older than the retention period, periodically."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

from liveevents.store.base import Store, StoreError

__all__ = ["purge_periodically"]

log = logging.getLogger(__name__)


async def purge_periodically(store: Store, retention: timedelta, interval_seconds: float) -> None:
    """Run until cancelled: purge once at start, then every ``interval_seconds``."""
    while True:
        try:
            events, quarantined = await store.purge(datetime.now(timezone.utc) - retention)
        except StoreError as error:
            log.warning("retention purge failed (will retry): %s", error)
        else:
            if events or quarantined:
                log.info("retention: purged %d events and %d quarantined records older than %s", events, quarantined, retention)
        await asyncio.sleep(interval_seconds)
