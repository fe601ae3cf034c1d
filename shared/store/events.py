"""Raw webhook events: stored once per dedupe key, read back in arrival order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from shared.store.engine import is_sqlite
from shared.store.tables import events, utcnow


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


def event_dedupe_key(event: str, data_id: int, timestamp: int) -> str:
    """A redelivery is the same event for the same `data.id` with the same `timestamp` (DESIGN §3)."""
    return f"{event}:{data_id}:{timestamp}"


def insert_event(engine: Engine, dedupe_key: str, call_id: int, event: str, event_timestamp: int, payload: str) -> bool:
    """Store an event; True when it is new, False for a redelivery (nothing is written then)."""
    insert = sqlite.insert(events) if is_sqlite(engine) else postgresql.insert(events)
    statement = (
        insert.values(
            dedupe_key=dedupe_key,
            call_id=call_id,
            event=event,
            event_timestamp=event_timestamp,
            received_at=utcnow(),
            payload=payload,
        )
        # ON CONFLICT rather than catching IntegrityError: two concurrent deliveries must not
        # both see "absent", and a failed statement would abort a PostgreSQL transaction.
        .on_conflict_do_nothing(index_elements=[events.c.dedupe_key])
        .returning(events.c.id)
    )
    with engine.begin() as connection:
        return connection.execute(statement).scalar_one_or_none() is not None


def events_for_call(engine: Engine, call_id: int) -> list[StoredEvent]:
    statement = select(events).where(events.c.call_id == call_id).order_by(events.c.id)
    with engine.connect() as connection:
        return [StoredEvent(**row._mapping) for row in connection.execute(statement)]
