"""What the web writes when an event arrives: the raw event, the call's row, the card claim.

All in one short transaction, so an acknowledged event always has its call row, and exactly one
delivery (of whichever card event arrives first, on whichever replica) wins the call's card.

The row's sync state moves with its events (DESIGN §6): a call becomes due once `call.ended` is
stored; a new event for a `synced` call puts it back to `pending`, because a late tag, comment or
recording must update the note; calls a worker holds or retries keep their schedule (the worker sees
`last_event_id` moved past what it read); `failed`, `dead` and `unmatched` wait for a person's Retry.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Engine, and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from insight.domain.aircall_events import NOT_THE_AGENT_EVENTS
from insight.store.engine import write_connection
from insight.store.limits import fit
from insight.store.tables import calls, events, utcnow
from shared.states import SyncState

#: card_status while the push is under way (claimed, not yet answered)
CARD_PUSHING = "pushing"
#: Aircall gathers all call data before this one; the note is written from then on
ENDED_EVENT = "call.ended"


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
    ended = event == ENDED_EVENT
    dialect = engine.dialect.name
    with write_connection(engine) as connection, connection.begin():
        event_id = connection.execute(
            _insert_event(dialect),
            fit(events, {"dedupe_key": dedupe_key, "call_id": call_id, "event": event,
                         "event_timestamp": event_timestamp, "received_at": now, "payload": payload}),
        ).scalar_one_or_none()
        if event_id is None:
            return RecordedEvent(new=False, card_claimed=False)
        summary = dict.fromkeys(_SUMMARY_COLUMNS) | summary_of(event, payload)
        connection.execute(
            _upsert_call(dialect),
            fit(calls, {"call_id": call_id, "direction": intake.direction, "raw_digits": intake.raw_digits,
                        "ended": ended, "due": now if ended else None, "event_id": event_id, "now": now, **summary}),
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


_SUMMARY_COLUMNS = ("started_at", "number_name", "agent_email", "agent_id")


def _param(name: str, column: str | None = None) -> Any:
    return bindparam(name, type_=calls.c[column or name].type)


@functools.cache
def _insert_event(dialect: str) -> Any:
    # Built once per dialect with bound parameters: building an ON CONFLICT statement per event
    # (and compiling it) costs more than the two inserts themselves.
    insert = sqlite.insert(events) if dialect == "sqlite" else postgresql.insert(events)
    return insert.on_conflict_do_nothing(index_elements=[events.c.dedupe_key]).returning(events.c.id)


@functools.cache
def _upsert_call(dialect: str) -> Any:
    insert = sqlite.insert(calls) if dialect == "sqlite" else postgresql.insert(calls)
    now, ended = _param("now", "updated_at"), bindparam("ended", type_=Boolean)
    new_values: dict[str, Any] = {name: _param(name) for name in ("call_id", "direction", "raw_digits",
                                                                   *_SUMMARY_COLUMNS)}
    statement = insert.values(
        **new_values, is_over=ended, next_attempt_at=_param("due", "next_attempt_at"),
        last_event_id=_param("event_id", "last_event_id"), state_json={}, flags_json={},
        status=SyncState.pending.value, attempt_count=0, rematch=False, created_at=now, updated_at=now,
    )
    over = or_(calls.c.is_over, ended)
    synced = calls.c.status == SyncState.synced.value
    waiting = calls.c.status.in_((SyncState.pending.value, SyncState.synced.value))
    set_: dict[str, Any] = {
        "updated_at": now,
        "last_event_id": _param("event_id", "last_event_id"),
        "is_over": over,
        "status": case((synced, SyncState.pending.value), else_=calls.c.status),
        # A pending call keeps an earlier due time (a settle delay); a synced one is due again now.
        "next_attempt_at": case(
            (and_(over, synced), now),
            (and_(over, waiting), func.coalesce(calls.c.next_attempt_at, now)),
            else_=calls.c.next_attempt_at,
        ),
    }
    for name in ("direction", "raw_digits", *_SUMMARY_COLUMNS):
        set_[name] = func.coalesce(_param(name), calls.c[name])
    return statement.on_conflict_do_update(index_elements=[calls.c.call_id], set_=set_)


def summary_of(event: str, payload: str) -> dict[str, Any]:
    """The summary columns one event can fill on its own (the worker later writes the reduced ones)."""
    try:
        document = json.loads(payload)
    except ValueError:
        return {}
    data = document.get("data") if isinstance(document, Mapping) else None
    if not isinstance(data, Mapping):
        return {}
    summary: dict[str, Any] = {}
    started_at = data.get("started_at")
    if isinstance(started_at, int) and not isinstance(started_at, bool) and started_at > 0:
        summary["started_at"] = datetime.fromtimestamp(started_at, UTC)
    number = data.get("number")
    if isinstance(number, Mapping) and isinstance(number.get("name"), str) and number["name"]:
        summary["number_name"] = number["name"][:200]
    user = data.get("user")
    took_the_call = event == "call.answered" or data.get("direction") == "outbound"
    if isinstance(user, Mapping) and took_the_call and event not in NOT_THE_AGENT_EVENTS:
        if isinstance(user.get("id"), int) and not isinstance(user["id"], bool):
            summary["agent_id"] = user["id"]
        if isinstance(user.get("email"), str) and user["email"]:
            summary["agent_email"] = user["email"][:320]
    return summary


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
        connection.execute(update(calls).where(calls.c.call_id == call_id).values(**fit(calls, values)))


def call_exists(engine: Engine, call_id: int) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(calls.c.call_id).where(calls.c.call_id == call_id)).first() is not None


def call_raw_digits(engine: Engine, call_id: int) -> tuple[bool, str | None]:
    """(known, raw_digits) of a call."""
    with engine.connect() as connection:
        row = connection.execute(select(calls.c.raw_digits).where(calls.c.call_id == call_id)).first()
    return (False, None) if row is None else (True, row.raw_digits)
