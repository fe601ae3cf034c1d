"""One backfill run: list a window of Aircall calls page by page and take in what the store lacks.

A window whose list would pass Aircall's 10,000-item cap is split in halves first (the cap holds
"however it is paged"), so no call is silently cut off. Progress is written after every page, so a
job's figures move while it runs and a dead process's job is recognisable by its stale row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from insight.domain.backfill import (
    MAX_LIST_ITEMS,
    SnapshotEvent,
    Window,
    needs_taking_in,
    next_watermark,
    snapshot_event,
)
from insight.store import backfill as rows
from insight.upstream.errors import UpstreamError

log = logging.getLogger("callbridge.backfill")

JSON = dict[str, Any]
#: Aircall's largest page
PER_PAGE = 50


class CallLister(Protocol):
    async def list_calls(self, *, start: int, end: int, page: int = 1,
                         per_page: int = PER_PAGE) -> tuple[list[JSON], JSON]: ...


@dataclass
class Progress:
    seen: int = 0
    taken_in: int = 0
    known: int = 0
    #: start times of listed calls still running (they hold the watermark back)
    live_started_at: list[int] = field(default_factory=list)


async def pages(aircall: CallLister, window: Window) -> AsyncIterator[list[JSON]]:
    """Every call of `window`, a page at a time, splitting windows Aircall would cut at 10,000 items."""
    calls, meta = await aircall.list_calls(start=window.start, end=window.end, page=1, per_page=PER_PAGE)
    total = meta.get("total")
    if isinstance(total, int) and total > MAX_LIST_ITEMS and window.splittable:
        for half in window.halves():
            async for page_calls in pages(aircall, half):
                yield page_calls
        return
    yield calls
    page = 1
    while meta.get("next_page_link") and page < MAX_LIST_ITEMS // PER_PAGE:
        page += 1
        calls, meta = await aircall.list_calls(start=window.start, end=window.end, page=page, per_page=PER_PAGE)
        yield calls


async def run_window(aircall: CallLister, engine: Engine, window: Window, *, progress: Progress | None = None,
                     on_page: Callable[[Progress], Awaitable[None]] | None = None) -> Progress:
    """Takes in the calls of `window` the store lacks; `progress` (updated page by page) is returned."""
    progress = progress if progress is not None else Progress()
    async for calls in pages(aircall, window):
        progress.seen += len(calls)
        snapshots: list[SnapshotEvent] = []
        events = [(call, snapshot_event(call)) for call in calls]
        known = await anyio.to_thread.run_sync(
            rows.known_calls, engine, [event.call_id for _, event in events if event is not None])
        for call, event in events:
            if event is None:
                started = call.get("started_at")
                if isinstance(started, int) and not isinstance(started, bool):
                    progress.live_started_at.append(started)
                continue
            if needs_taking_in(known=event.call_id in known, has_ended=known.get(event.call_id, False)):
                snapshots.append(event)
            else:
                progress.known += 1
        new = await anyio.to_thread.run_sync(rows.take_in, engine, snapshots)
        # a snapshot stored by an earlier run whose call has not been reduced yet is known, not new
        progress.taken_in += new
        progress.known += len(snapshots) - new
        if on_page is not None:
            await on_page(progress)
    return progress


async def run_job(aircall: CallLister, engine: Engine, job: rows.Job) -> rows.Job:
    """Runs `job` to its end and records the outcome (shielded: a cancelled run still says so)."""
    window = Window(int(job.window_from.timestamp()), int(job.window_to.timestamp()))

    async def record(progress: Progress) -> None:
        await anyio.to_thread.run_sync(lambda: rows.update_job(
            engine, job.job_id, seen=progress.seen, taken_in=progress.taken_in, known=progress.known))

    progress = Progress()
    status, detail, watermark = rows.FAILED, "interrupted before it finished", None
    try:
        await run_window(aircall, engine, window, progress=progress, on_page=record)
        status, detail = rows.DONE, _done_detail(progress)
        if job.kind == rows.PERIODIC:
            watermark = next_watermark(window, progress.live_started_at)
    except UpstreamError as error:
        detail = f"Aircall's call list could not be read: {error}"
        log.warning("backfill %s failed: %s", job.job_id, error)
    except SQLAlchemyError as error:
        detail = f"the store could not take the calls in ({type(error).__name__}); the next run tries again"
        log.exception("backfill %s failed", job.job_id)
    finally:
        def finish() -> None:
            rows.update_job(engine, job.job_id, seen=progress.seen, taken_in=progress.taken_in,
                            known=progress.known, status=status, detail=detail, watermark=watermark)

        await asyncio.shield(anyio.to_thread.run_sync(finish))
    log.info("backfill %s (%s) %s: %d listed, %d taken in, %d known", job.job_id, job.kind, status, progress.seen,
             progress.taken_in, progress.known)
    found = await anyio.to_thread.run_sync(rows.get_job, engine, job.job_id)
    assert found is not None
    return found


def _done_detail(progress: Progress) -> str:
    if not progress.taken_in:
        return f"{progress.seen} calls listed; every one was already known"
    return f"{progress.seen} calls listed; {progress.taken_in} the webhooks had missed were taken in"


def utc_from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
