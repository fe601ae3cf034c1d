"""The store's part of the card's context (DESIGN §13): the latest calls with a number, and those still live.

Both read `calls` by `phone_e164` (indexed with `started_at`, migration 0012), on the connection the
caller gives (the web's `LoopReader`: on the loop, so two statements at most, both indexed). A call's number is known
once its card was pushed (the card outcome writes it) or the worker reduced it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, desc, func, select

from insight.domain.card_context import LiveCall, PastCall
from insight.store.tables import calls, events

#: calls read for the last contact (the ringing one may be among them)
RECENT_CALLS = 4
#: the newest calls with the number read at once: the live ones are among them (they started last), and
#: the last contact too
NEWEST_CALLS = 12
#: a call with no `call.ended` after this long is lost, not live: it never shows as "on a call now"
LIVE_FOR_AT_MOST = timedelta(hours=4)
#: a live call's newest events read for its agent's name
AGENT_EVENTS = 5


def calls_with_number(connection: Connection, e164: str, *,
                      now: datetime) -> tuple[list[PastCall], list[LiveCall]]:
    """One indexed read for the card's context: the latest calls with the number that are over (newest
    first; a call still going is not a *last* contact), and those still live that an agent made or
    answered, started within `LIVE_FOR_AT_MOST` (earliest first)."""
    query = (
        select(calls.c.call_id, calls.c.started_at, calls.c.created_at, calls.c.agent_email, calls.c.state_json,
               calls.c.direction, calls.c.action, calls.c.is_over)
        .where(calls.c.phone_e164 == e164)
        .order_by(desc(calls.c.started_at))
        .limit(NEWEST_CALLS)
    )
    rows = connection.execute(query).all()
    live_rows = [row for row in rows if not row.is_over and row.agent_email
                 and (row.started_at or row.created_at) >= now - LIVE_FOR_AT_MOST]
    names = _agents_from_events(connection, [row.call_id for row in live_rows])
    past = [PastCall(row.call_id, row.started_at or row.created_at, _agent_name(row.state_json) or row.agent_email,
                     row.direction, row.action) for row in rows if row.is_over][:RECENT_CALLS]
    live = [LiveCall(row.call_id, row.agent_email, names[row.call_id] or row.agent_email,
                     row.started_at or row.created_at) for row in reversed(live_rows)]
    return past, live


def call_party(engine: Engine, call_id: int) -> tuple[str | None, str | None] | None:
    """The call's other party (`raw_digits`) and its agent's e-mail; None for a call never received."""
    query = select(calls.c.raw_digits, calls.c.agent_email).where(calls.c.call_id == call_id)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else (row.raw_digits, row.agent_email)


def _agent_name(state: Any) -> str | None:
    agent = state.get("agent") if isinstance(state, dict) else None
    name = agent.get("name") if isinstance(agent, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def _agents_from_events(connection: Connection, call_ids: list[int]) -> dict[int, str | None]:
    """Each call's agent name as Aircall's newest events of the call give it (`data.user.name`), in one read."""
    names: dict[int, str | None] = dict.fromkeys(call_ids)
    if not call_ids:
        return names
    newest = (select(events.c.call_id, events.c.payload,
                     func.row_number().over(partition_by=events.c.call_id, order_by=desc(events.c.id)).label("age"))
              .where(events.c.call_id.in_(call_ids)).subquery())
    rows = connection.execute(select(newest.c.call_id, newest.c.payload).where(newest.c.age <= AGENT_EVENTS)
                              .order_by(newest.c.call_id, newest.c.age))
    for call_id, payload in rows:
        if names[call_id] is None:
            names[call_id] = _agent_name_in(payload)
    return names


def _agent_name_in(payload: str) -> str | None:
    try:
        user = json.loads(payload).get("data", {}).get("user")
    except (ValueError, AttributeError):
        return None
    name = user.get("name") if isinstance(user, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None
