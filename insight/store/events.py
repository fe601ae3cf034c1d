"""Raw webhook events read back in arrival order (they are written by `intake_batch`, once per dedupe key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from insight.store.tables import events


@dataclass(frozen=True)
class StoredEvent:
    id: int
    dedupe_key: str
    call_id: int
    event: str
    #: Aircall's `timestamp` of the event (unix seconds)
    event_timestamp: int
    received_at: datetime
    #: the request body exactly as received
    payload: str


def events_for_call(engine: Engine, call_id: int) -> list[StoredEvent]:
    statement = select(events).where(events.c.call_id == call_id).order_by(events.c.id)
    with engine.connect() as connection:
        return [StoredEvent(**row._mapping) for row in connection.execute(statement)]
