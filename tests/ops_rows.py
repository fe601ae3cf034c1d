"""Writes `calls`, `attempts` and `events` rows straight into the store, as the web and worker would."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, update

from insight.store.tables import attempts, calls, events

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
_event_seq = itertools.count(1)


def add_call(engine: Engine, call_id: int, *, created_at: datetime | None = None, **columns: Any) -> None:
    created = created_at or T0 + timedelta(seconds=call_id % 100_000)
    row: dict[str, Any] = {
        "call_id": call_id,
        "is_over": False,
        "state_json": {},
        "flags_json": {},
        "status": "pending",
        "attempt_count": 0,
        "created_at": created,
        "updated_at": created,
    }
    row.update(columns)
    with engine.begin() as connection:
        connection.execute(insert(calls).values(**row))


def update_call(engine: Engine, call_id: int, **columns: Any) -> None:
    with engine.begin() as connection:
        connection.execute(update(calls).where(calls.c.call_id == call_id).values(**columns))


def add_attempt(engine: Engine, call_id: int, **columns: Any) -> None:
    row: dict[str, Any] = {"call_id": call_id, "kind": "create", "started_at": T0}
    row.update(columns)
    with engine.begin() as connection:
        connection.execute(insert(attempts).values(**row))


def add_event(engine: Engine, call_id: int, event: str, timestamp: int, *, received_at: datetime | None = None) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(events)
                .values(
                    dedupe_key=f"{event}:{call_id}:{timestamp}:{next(_event_seq)}",
                    call_id=call_id,
                    event=event,
                    event_timestamp=timestamp,
                    received_at=received_at or datetime.fromtimestamp(timestamp, UTC),
                    payload="{}",
                )
                .returning(events.c.id)
            ).scalar_one()
        )
