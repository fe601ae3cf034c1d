"""The web's writes, several to a transaction (group commit), with the rows of `shared.store.intake`.

`record_batch` writes a batch in order in one transaction: one commit, so one fsync, for all of it,
and nothing in it is acknowledged before that commit. A batch holds webhook events and Insight
Card outcomes (`intake.record_card`), so the card pushes under way do not contend with the intake
for SQLite's single write lock. Per event it runs what
`intake.record_event` runs — the event insert with `ON CONFLICT DO NOTHING` on the dedupe key (a
redelivery inside the same batch is a duplicate of the first), the call upsert with the same
rules, the conditional card claim — so dedupe and the card claim stay race-safe across processes.

The difference is cost. `record_event` builds its statements for every event, and building the
call upsert (its `excluded` alias proxies every column of `calls`) costs ~1.4 ms of CPU, more than
the rest of a webhook's handling. Here the statements are built once per dialect with bound
parameters for everything that varies: a value `record_event` writes only when present (an
event's summary columns) is bound as NULL when absent, which `coalesce` turns into "unchanged"
exactly as leaving it out does. tests/test_intake_batch.py checks that both paths write the same
rows for the same events and card outcomes; keep the two in step when either changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, case, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert, Update

from shared.states import SyncState
from shared.store import intake
from shared.store.engine import write_connection
from shared.store.intake import CARD_PUSHING, ENDED_EVENT, CallIntake, RecordedEvent
from shared.store.tables import calls, events, utcnow

#: the columns `intake.summary_of` may fill; bound as NULL when an event does not carry them
SUMMARY_COLUMNS = ("started_at", "number_name", "agent_id", "agent_email")


@dataclass(frozen=True)
class EventToRecord:
    """The arguments of `intake.record_event` for one event."""

    dedupe_key: str
    call_id: int
    event: str
    event_timestamp: int
    payload: str
    intake: CallIntake
    claim_card: bool


@dataclass(frozen=True)
class CardOutcome:
    """The arguments of `intake.record_card`: how a call's Insight Card push ended."""

    call_id: int
    status: str
    phone_e164: str | None
    matches: Sequence[Mapping[str, Any]]
    error: str | None


BatchItem = EventToRecord | CardOutcome


@dataclass(frozen=True)
class _Statements:
    insert_event: Insert
    upsert_call: Insert
    claim_card: Update


def record_batch(engine: Engine, batch: Sequence[BatchItem]) -> list[RecordedEvent | None]:
    """Write `batch` in order in one transaction, all or nothing: per item, what it recorded (None for a card)."""
    statements = _statements(engine.dialect.name)
    results: list[RecordedEvent | None] = []
    with write_connection(engine) as connection, connection.begin():
        for item in batch:
            if isinstance(item, EventToRecord):
                results.append(_record(connection, statements, item, utcnow()))
            else:
                _record_card(connection, item, utcnow())
                results.append(None)
    return results


def _record(connection: Connection, statements: _Statements, item: EventToRecord, now: datetime) -> RecordedEvent:
    event_id = connection.execute(
        statements.insert_event,
        {
            "dedupe_key": item.dedupe_key,
            "call_id": item.call_id,
            "event": item.event,
            "event_timestamp": item.event_timestamp,
            "received_at": now,
            "payload": item.payload,
        },
    ).scalar_one_or_none()
    if event_id is None:
        return RecordedEvent(new=False, card_claimed=False)
    ended = item.event == ENDED_EVENT
    summary = intake.summary_of(item.event, item.payload)
    connection.execute(
        statements.upsert_call,
        {
            "call_id": item.call_id,
            "direction": item.intake.direction,
            "raw_digits": item.intake.raw_digits,
            "is_over": ended,
            "state_json": {},
            "flags_json": {},
            "status": SyncState.pending.value,
            "attempt_count": 0,
            "next_attempt_at": now if ended else None,
            "last_event_id": event_id,
            "rematch": False,
            "created_at": now,
            "updated_at": now,
            **{column: summary.get(column) for column in SUMMARY_COLUMNS},
        },
    )
    claimed = False
    if item.claim_card:
        claimed = connection.execute(statements.claim_card, {"claim_call_id": item.call_id}).rowcount == 1
    return RecordedEvent(new=True, card_claimed=claimed)


def _record_card(connection: Connection, outcome: CardOutcome, now: datetime) -> None:
    # as `intake.record_card`: cheap to build (no `excluded` alias), so built the same way
    values: dict[str, Any] = {"card_status": outcome.status, "phone_e164": outcome.phone_e164, "updated_at": now}
    if outcome.status == "pushed":
        values["card_pushed_at"] = now
    values["match_json"] = {"matches": [dict(match) for match in outcome.matches], "looked_up_at": now.isoformat()}
    if outcome.error:
        values["explanation"] = f"Insight Card not shown: {outcome.error}"
    connection.execute(update(calls).where(calls.c.call_id == outcome.call_id).values(**values))


@cache
def _statements(dialect: str) -> _Statements:
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    insert_event = insert(events).on_conflict_do_nothing(index_elements=[events.c.dedupe_key]).returning(events.c.id)
    upsert = insert(calls)
    excluded = upsert.excluded
    # In `intake.record_event` these are Python values of the event; the inserted row carries them.
    ended, now = excluded.is_over, excluded.updated_at
    over = or_(calls.c.is_over, ended)
    waiting = calls.c.status.in_((SyncState.pending.value, SyncState.synced.value))
    set_: dict[str, Any] = {
        "updated_at": now,
        "last_event_id": excluded.last_event_id,
        "direction": func.coalesce(excluded.direction, calls.c.direction),
        "raw_digits": func.coalesce(excluded.raw_digits, calls.c.raw_digits),
        "is_over": over,
        "status": case((calls.c.status == SyncState.synced.value, SyncState.pending.value), else_=calls.c.status),
        "next_attempt_at": case(
            (and_(over, calls.c.status == SyncState.synced.value), now),
            (and_(over, waiting), func.coalesce(calls.c.next_attempt_at, now)),
            else_=calls.c.next_attempt_at,
        ),
        **{column: func.coalesce(getattr(excluded, column), calls.c[column]) for column in SUMMARY_COLUMNS},
    }
    claim_card = (
        update(calls)
        .where(calls.c.call_id == bindparam("claim_call_id"), calls.c.card_status.is_(None))
        .values(card_status=CARD_PUSHING)
    )
    return _Statements(
        insert_event=insert_event,
        upsert_call=upsert.on_conflict_do_update(index_elements=[calls.c.call_id], set_=set_),
        claim_card=claim_card,
    )
