"""A table's rows as a durable work queue: claimed by workers under a lease, every later write fenced.

A worker claims due rows in one short transaction: status `syncing`, `locked_by` itself and
`locked_until` a lease. PostgreSQL picks rows with `FOR UPDATE SKIP LOCKED`, so concurrent workers
never pick the same row; SQLite has one writer at a time (`write_connection` takes the write lock at
BEGIN), which serialises claims by itself. A lease that ran out (a worker was killed) makes the row
claimable again. Every later write of the worker is fenced on `locked_by`, so a worker whose lease
was taken over cannot record anything for that row. Calls (`insight.store.queue`) and SMS
conversations (`insight.store.conversations`) are both queued this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Engine, Row, Table, and_, or_, select, update

from insight.store.engine import is_sqlite, write_connection
from insight.store.limits import fit
from insight.store.tables import utcnow
from shared.states import SyncState

#: states a worker picks up once `next_attempt_at` has come
DUE_STATES = (SyncState.pending.value, SyncState.retrying.value)


@dataclass(frozen=True)
class LeasedTable:
    table: Table
    #: the row's key
    key: Column[Any]

    def claim_due(self, engine: Engine, *, worker_id: str, now: datetime, lease_s: float,
                  limit: int) -> list[Row[Any]]:
        """Claim up to `limit` due rows (oldest due first) for `worker_id` until `now + lease_s`; the rows as
        claimed."""
        c = self.table.c
        due = or_(and_(c.status.in_(DUE_STATES), c.next_attempt_at <= now),
                  and_(c.status == SyncState.syncing.value, c.locked_until < now))
        pick = select(self.key).where(due).order_by(c.next_attempt_at, self.key).limit(limit)
        if not is_sqlite(engine):
            pick = pick.with_for_update(skip_locked=True)
        with write_connection(engine) as connection, connection.begin():
            keys = list(connection.execute(pick).scalars())
            if not keys:
                return []
            connection.execute(update(self.table).where(self.key.in_(keys)).values(
                status=SyncState.syncing.value, locked_by=worker_id,
                locked_until=now + timedelta(seconds=lease_s), updated_at=now))
            return list(connection.execute(select(self.table).where(self.key.in_(keys)).order_by(self.key)).all())

    def extend_leases(self, engine: Engine, keys: Sequence[Any], *, worker_id: str, until: datetime) -> int:
        """Push the lease of rows `worker_id` is still syncing to `until`; the number extended."""
        if not keys:
            return 0
        c = self.table.c
        with write_connection(engine) as connection, connection.begin():
            return int(connection.execute(update(self.table).where(
                self.key.in_(list(keys)), c.locked_by == worker_id, c.status == SyncState.syncing.value,
            ).values(locked_until=until)).rowcount)

    def fenced(self, engine: Engine, key: Any, worker_id: str, **values: Any) -> bool:
        """Write `values` only while `worker_id` still holds the row; False when it lost it."""
        with write_connection(engine) as connection, connection.begin():
            changed = connection.execute(update(self.table).where(
                self.key == key, self.table.c.locked_by == worker_id,
            ).values(**fit(self.table, values))).rowcount
        return changed == 1

    def requeue(self, engine: Engine, key: Any, *, rematch: bool, **values: Any) -> bool:
        """Due now with a fresh attempt budget (a person's Retry); False when the row is unknown or a worker
        is syncing it right now (its lease is live), so the caller can answer 409."""
        now = utcnow()
        c = self.table.c
        in_flight = and_(c.status == SyncState.syncing.value, c.locked_until >= now)
        with write_connection(engine) as connection, connection.begin():
            changed = connection.execute(update(self.table).where(self.key == key, ~in_flight).values(
                status=SyncState.pending.value, next_attempt_at=now, attempt_count=0, rematch=rematch,
                locked_by=None, locked_until=None, updated_at=now, **values)).rowcount
        return changed == 1
