"""Purge what a settled call no longer needs after the retention period (DESIGN §14).

After `CALLBRIDGE_RETENTION_DAYS` without activity, a settled call (synced, unmatched, failed, dead)
loses its raw events' payloads and its caller's number: the call row stays, for the ops history,
with the number masked (`+44******0958`) and `purged_at` set. The event rows stay too (event,
timestamps), with an empty JSON object for payload. A call that moves again is never touched.

A call that never ended (no `call.ended` for the whole period, and backfill found none either: an AI
event whose call never came, or a ring whose end Aircall never delivered) is not left waiting for
ever: it becomes `dead`, saying so, and is purged the same way. Nothing was written to Bullhorn for it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, case, or_, select, update

from insight.store.engine import write_connection
from insight.store.tables import calls, events
from shared.logs import mask_phone
from shared.states import SyncState

#: states a call rests in until something new happens; `retrying` and `pending` still need their events
RESTING = (SyncState.synced, SyncState.unmatched, SyncState.failed, SyncState.dead)
PURGED_PAYLOAD = "{}"
#: calls purged per transaction: short transactions, so intake is never held up
BATCH = 200
NEVER_ENDED = ("Aircall never said this call ended (no call.ended within the retention period, none found by "
               "backfill): nothing was written to Bullhorn, and its data was purged")


def purge_settled(engine: Engine, *, inactive_since: datetime, now: datetime, limit: int = BATCH) -> int:
    """Purge up to `limit` resting calls not updated since `inactive_since`; answers how many were purged."""
    never_ended = and_(calls.c.status == SyncState.pending.value, calls.c.is_over.is_(False))
    resting = (
        or_(calls.c.status.in_([state.value for state in RESTING]), never_ended),
        calls.c.updated_at < inactive_since,
        calls.c.purged_at.is_(None),
    )
    due = select(calls.c.call_id, calls.c.raw_digits, calls.c.phone_e164, calls.c.state_json).where(*resting)
    with write_connection(engine) as connection, connection.begin():
        rows = connection.execute(due.order_by(calls.c.updated_at).limit(limit)).all()
        for row in rows:
            connection.execute(
                update(calls)
                .where(calls.c.call_id == row.call_id, *resting)
                .values(
                    raw_digits=masked(row.raw_digits),
                    phone_e164=masked(row.phone_e164),
                    state_json=_masked_state(row.state_json),
                    synced_body_json=None,
                    ai_json=None,
                    purged_at=now,
                    status=case((never_ended, SyncState.dead.value), else_=calls.c.status),
                    explanation=case((never_ended, NEVER_ENDED), else_=calls.c.explanation),
                    next_attempt_at=case((never_ended, None), else_=calls.c.next_attempt_at),
                )
            )
        if rows:
            purged = [row.call_id for row in rows]
            connection.execute(update(events).where(events.c.call_id.in_(purged)).values(payload=PURGED_PAYLOAD))
    return len(rows)


def masked(number: str | None) -> str | None:
    """A number with all but its country code and last four digits hidden; words ("anonymous") kept."""
    if number is None or len(re.sub(r"\D", "", number)) < 5:
        return number
    return mask_phone(number)


def _masked_state(state: Any) -> Any:
    if not isinstance(state, dict):
        return state
    return {**state, "raw_digits": masked(state.get("raw_digits"))}
