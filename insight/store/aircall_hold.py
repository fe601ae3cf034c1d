"""The Aircall hold every process shares: after a 429, no request to Aircall before the reset it named.

Aircall limits requests per company, not per process (DESIGN §15), so `web`'s card pushes, the
worker's call listing and the doctor's checks all read one row. It only ever moves later: a hold
is never shortened by a process that saw an earlier reset.
"""

from __future__ import annotations

from datetime import datetime

import anyio.to_thread
from sqlalchemy import Engine, or_, select, update

from insight.store.engine import write_connection
from insight.store.tables import AIRCALL_HOLD_ROW_ID, aircall_hold, utcnow

_ROW = aircall_hold.c.id == AIRCALL_HOLD_ROW_ID


class StoreAircallHold:
    """`AircallClient`'s shared hold (`insight.upstream.aircall.SharedHold`) in the store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def resume_at(self) -> float | None:
        """Epoch seconds before which nothing may be sent (in the past once the hold is over)."""
        return await anyio.to_thread.run_sync(self._read)

    async def hold_until(self, resume_at: float) -> None:
        await anyio.to_thread.run_sync(self._write, resume_at, utcnow())

    def _read(self) -> float | None:
        with self._engine.connect() as connection:
            value = connection.execute(select(aircall_hold.c.resume_at).where(_ROW)).scalar_one_or_none()
        return float(value) if value is not None else None

    def _write(self, resume_at: float, now: datetime) -> None:
        row = aircall_hold.c
        with write_connection(self._engine) as connection, connection.begin():
            connection.execute(update(aircall_hold).where(_ROW, or_(row.resume_at.is_(None), row.resume_at < resume_at))
                               .values(resume_at=resume_at, held_at=now))
