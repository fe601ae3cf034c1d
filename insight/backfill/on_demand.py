"""On-demand backfill runs in the process that was asked (`POST /api/backfill`), tracked in the store."""

from __future__ import annotations

import asyncio
from datetime import datetime

import anyio.to_thread
from sqlalchemy import Engine

from insight.backfill.periodic import ABANDONED_AFTER
from insight.backfill.runner import CallLister, run_job
from insight.store import backfill as rows
from insight.store.tables import utcnow


class BackfillRuns:
    """The on-demand runs this process started; the lifespan waits for them (or cancels them) at shutdown."""

    def __init__(self, aircall: CallLister, engine: Engine) -> None:
        self._aircall = aircall
        self._engine = engine
        self._tasks: set[asyncio.Task[rows.Job]] = set()

    async def start(self, start: datetime, end: datetime) -> rows.Job:
        job = await anyio.to_thread.run_sync(lambda: rows.start_job(
            self._engine, kind=rows.ON_DEMAND, window_from=start, window_to=end))
        task = asyncio.create_task(run_job(self._aircall, self._engine, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def wait(self) -> None:
        """Waits for the runs in progress (tests; a stopping process cancels them instead)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.wait()

    async def fail_abandoned(self) -> None:
        await anyio.to_thread.run_sync(lambda: rows.fail_abandoned(
            self._engine, kind=rows.ON_DEMAND, older_than=utcnow() - ABANDONED_AFTER,
            detail="interrupted: the web process running it stopped; start it again"))
