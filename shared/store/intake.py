"""What the web writes when an event arrives: the raw event, the call's row, the card claim.

All in one short transaction, so an acknowledged event always has its call row, and exactly one
delivery (of whichever card event arrives first, on whichever replica) wins the call's card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shared.states import SyncState
from shared.store.engine import is_sqlite, write_connection
from shared.store.tables import calls, events, utcnow

#: card_status while the push is under way (claimed, not yet answered)
CARD_PUSHING = "pushing"


@dataclass(frozen=True)
class RecordedEvent:
    #: False for a redelivery: nothing was written
    new: bool
    #: True for exactly one delivery per call: the one that must push the Insight Card
    card_claimed: bool


@dataclass(frozen=True)
class CallIntake:
    """The few call facts the web can read straight off an event (the worker reduces the rest)."""

    direction: str | None
    raw_digits: str | None


def record_event(
    engine: Engine,
    *,
    dedupe_key: str,
    call_id: int,
    event: str,
    event_timestamp: int,
    payload: str,
    intake: CallIntake,
    claim_card: bool,
) -> RecordedEvent:
    now = utcnow()
    insert_event = (sqlite.insert(events) if is_sqlite(engine) else postgresql.insert(events)).values(
        dedupe_key=dedupe_key,
        call_id=call_id,
        event=event,
        event_timestamp=event_timestamp,
        received_at=now,
        payload=payload,
    )
    insert_call = (sqlite.insert(calls) if is_sqlite(engine) else postgresql.insert(calls)).values(
        call_id=call_id,
        direction=intake.direction,
        raw_digits=intake.raw_digits,
        is_over=False,
        state_json={},
        flags_json={},
        status=SyncState.pending.value,
        attempt_count=0,
        created_at=now,
        updated_at=now,
    )
    with write_connection(engine) as connection, connection.begin():
        event_id = connection.execute(
            insert_event.on_conflict_do_nothing(index_elements=[events.c.dedupe_key]).returning(events.c.id)
        ).scalar_one_or_none()
        if event_id is None:
            return RecordedEvent(new=False, card_claimed=False)
        connection.execute(
            insert_call.on_conflict_do_update(
                index_elements=[calls.c.call_id],
                set_={
                    "updated_at": now,
                    "direction": _coalesce(insert_call.excluded.direction, calls.c.direction),
                    "raw_digits": _coalesce(insert_call.excluded.raw_digits, calls.c.raw_digits),
                },
            )
        )
        claimed = False
        if claim_card:
            claimed = (
                connection.execute(
                    update(calls)
                    .where(calls.c.call_id == call_id, calls.c.card_status.is_(None))
                    .values(card_status=CARD_PUSHING)
                ).rowcount
                == 1
            )
        return RecordedEvent(new=True, card_claimed=claimed)


def record_card(
    engine: Engine,
    call_id: int,
    *,
    status: str,
    phone_e164: str | None,
    matches: Sequence[Mapping[str, Any]],
    error: str | None,
) -> None:
    now = utcnow()
    values: dict[str, Any] = {"card_status": status, "phone_e164": phone_e164, "updated_at": now}
    if status == "pushed":
        values["card_pushed_at"] = now
    values["match_json"] = {"matches": [dict(match) for match in matches], "looked_up_at": now.isoformat()}
    if error:
        values["explanation"] = f"Insight Card not shown: {error}"
    with engine.begin() as connection:
        connection.execute(update(calls).where(calls.c.call_id == call_id).values(**values))


def call_exists(engine: Engine, call_id: int) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(calls.c.call_id).where(calls.c.call_id == call_id)).first() is not None


def call_raw_digits(engine: Engine, call_id: int) -> tuple[bool, str | None]:
    """(known, raw_digits) of a call."""
    with engine.connect() as connection:
        row = connection.execute(select(calls.c.raw_digits).where(calls.c.call_id == call_id)).first()
    return (False, None) if row is None else (True, row.raw_digits)


def _coalesce(first: Any, second: Any) -> Any:
    return func.coalesce(first, second)
