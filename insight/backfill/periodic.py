"""The worker's periodic backfill: every `CALLBRIDGE_BACKFILL_INTERVAL_S`, from the stored watermark."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import Engine

from insight.backfill.runner import CallLister, run_job, utc_from_unix
from insight.domain.backfill import periodic_window
from insight.store import backfill as rows
from insight.store.tables import utcnow

log = logging.getLogger("callbridge.backfill")

#: a running job untouched for this long belongs to a process that died (progress is written per page)
ABANDONED_AFTER = timedelta(minutes=10)


async def run_periodic_once(aircall: CallLister, engine: Engine, *, lookback_s: int,
                            clock: Callable[[], datetime] = utcnow) -> rows.Job:
    """One run from the watermark (less the overlap) to now; a fresh store looks back `lookback_s`."""
    now = clock()
    watermark = await anyio.to_thread.run_sync(rows.last_watermark, engine)
    window = periodic_window(watermark, now=int(now.timestamp()), lookback_s=lookback_s)
    job = await anyio.to_thread.run_sync(lambda: rows.start_job(
        engine, kind=rows.PERIODIC, window_from=utc_from_unix(window.start), window_to=utc_from_unix(window.end)))
    return await run_job(aircall, engine, job)


async def run_periodically(aircall: CallLister, engine: Engine, *, interval_s: float, lookback_s: int,
                           stop: asyncio.Event, clock: Callable[[], datetime] = utcnow) -> None:
    """Until `stop`: a run, then `interval_s` of rest; `interval_s` 0 turns backfill off."""
    if interval_s <= 0:
        log.info("backfill is off (CALLBRIDGE_BACKFILL_INTERVAL_S=0): calls the webhooks miss are not taken in")
        return
    await anyio.to_thread.run_sync(lambda: rows.fail_abandoned(
        engine, kind=rows.PERIODIC, older_than=clock() - ABANDONED_AFTER,
        detail="interrupted: the worker running it stopped"))
    while not stop.is_set():
        try:
            await run_periodic_once(aircall, engine, lookback_s=lookback_s, clock=clock)
        except Exception:  # a store outage must not end the worker; the next run starts from the same watermark
            log.exception("backfill run could not start")
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            pass
