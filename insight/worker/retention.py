"""The worker's retention job: purge settled calls older than `CALLBRIDGE_RETENTION_DAYS`, once an hour."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import anyio.to_thread

from insight.store import Store
from insight.store.conversations import purge_resting
from insight.store.retention import BATCH, purge_settled
from insight.store.tables import utcnow
from shared.settings import Settings

log = logging.getLogger("callbridge.retention")

#: purging is not urgent; once an hour keeps each pass small
EVERY_S = 3600.0


async def purge_expired(store: Store, settings: Settings, *, now: datetime) -> int:
    """Purge every resting call inactive for the retention period, a batch per transaction."""
    inactive_since = now - timedelta(days=settings.retention_days)
    total = 0
    while True:
        purged = await anyio.to_thread.run_sync(
            lambda: purge_settled(store.engine, inactive_since=inactive_since, now=now))
        total += purged
        if purged < BATCH:
            break
    # SMS conversations: their notes are in Bullhorn; the texts and numbers kept here go too
    while await anyio.to_thread.run_sync(
            lambda: purge_resting(store.engine, inactive_since=inactive_since, limit=BATCH)) == BATCH:
        pass
    return total


async def run_retention(settings: Settings, store: Store, *, stop: asyncio.Event,
                        every_s: float = EVERY_S, clock: Callable[[], datetime] = utcnow) -> None:
    while not stop.is_set():
        try:
            purged = await purge_expired(store, settings, now=clock())
            if purged:
                log.info("purged the raw events and numbers of %d calls older than %d days",
                         purged, settings.retention_days)
        except Exception:  # the database restarting must not end the worker; try at the next pass
            log.exception("the retention purge failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        except TimeoutError:
            pass
