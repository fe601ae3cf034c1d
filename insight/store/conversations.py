"""Conversations (one per person, line and UTC day) and their messages: intake, queue, ops reads.

A message is stored with its conversation in one transaction; its `dedupe_key` (line and Aircall
message id) is unique, so a redelivery stores nothing and changes nothing. A new message makes the
conversation due (a synced note must take it in; an unmatched conversation is looked up again).
Workers claim due conversations under a lease as they do calls (`insight.store.leases`), and every
later write is fenced on `locked_by`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from insight.domain.conversations import IncomingMessage, Media, StoredMessage
from insight.store.engine import is_sqlite, write_connection
from insight.store.leases import LeasedTable
from insight.store.limits import fit
from insight.store.tables import conversation_messages, conversations, utcnow
from shared.states import SyncState

CONVERSATIONS = LeasedTable(conversations, conversations.c.id)
#: a new message puts these back in the queue; failed and dead wait for a person's Retry
_REOPENED = (SyncState.synced.value, SyncState.unmatched.value)


@dataclass(frozen=True)
class ClaimedConversation:
    id: int
    line_id: str
    line_name: str | None
    line_digits: str | None
    number: str
    phone_e164: str | None
    day: str
    last_message_id: int | None
    attempt_count: int
    rematch: bool
    match_json: Mapping[str, Any] | None
    note_id: int | None
    note_person_entity: str | None
    note_person_id: int | None
    write_intent_at: datetime | None
    synced_body_json: Mapping[str, Any] | None


@dataclass(frozen=True)
class ConversationPageKey:
    created_at: datetime
    id: int


def record_message(engine: Engine, message: IncomingMessage, payload: str, *, now: datetime | None = None) -> bool:
    """Store `message` in its conversation; False for a redelivery (nothing changed)."""
    now = now or utcnow()
    insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
    # the key as stored (fitted: cut to its columns, without NULs), so the lookup below finds the row
    key = fit(conversations, {"line_id": message.line_id, "number": message.number, "day": message.day})
    with write_connection(engine) as connection, connection.begin():
        connection.execute(insert(conversations).values(fit(conversations, {
            **key, "line_name": message.line_name, "line_digits": message.line_digits,
            "phone_e164": message.phone_e164, "status": SyncState.pending.value, "rematch": False,
            "attempt_count": 0, "next_attempt_at": now, "created_at": now, "updated_at": now,
        })).on_conflict_do_nothing(index_elements=["line_id", "number", "day"]))
        conversation_id = connection.execute(select(conversations.c.id).where(
            *(conversations.c[name] == value for name, value in key.items()))).scalar_one()
        inserted = connection.execute(insert(conversation_messages).values(fit(conversation_messages, {
            "conversation_id": conversation_id, "dedupe_key": message.dedupe_key, "event": message.event,
            "direction": message.direction, "sent_at": message.sent_at, "sender": message.sender,
            "agent_email": message.agent_email, "body": message.body,
            "media_json": [{"name": media.name, "url": media.url} for media in message.media],
            "payload": payload, "received_at": now,
        })).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(conversation_messages.c.id)).first()
        if inserted is None:
            return False
        c = conversations.c
        connection.execute(update(conversations).where(c.id == conversation_id).values(
            last_message_id=inserted.id,
            line_name=func.coalesce(fit(conversations, {"line_name": message.line_name})["line_name"], c.line_name),
            status=case((c.status.in_(_REOPENED), SyncState.pending.value), else_=c.status),
            next_attempt_at=case((c.status.in_(_REOPENED), now),
                                 (c.status == SyncState.pending.value, func.coalesce(c.next_attempt_at, now)),
                                 else_=c.next_attempt_at),
            updated_at=now,
        ))
    return True


def claim_due(engine: Engine, *, worker_id: str, now: datetime, lease_s: float, limit: int,
              ) -> list[ClaimedConversation]:
    rows = CONVERSATIONS.claim_due(engine, worker_id=worker_id, now=now, lease_s=lease_s, limit=limit)
    return [ClaimedConversation(
        id=row.id, line_id=row.line_id, line_name=row.line_name, line_digits=row.line_digits, number=row.number,
        phone_e164=row.phone_e164, day=row.day, last_message_id=row.last_message_id,
        attempt_count=row.attempt_count, rematch=bool(row.rematch), match_json=row.match_json, note_id=row.note_id,
        note_person_entity=row.note_person_entity, note_person_id=row.note_person_id,
        write_intent_at=row.write_intent_at, synced_body_json=row.synced_body_json,
    ) for row in rows]


def extend_leases(engine: Engine, conversation_ids: Sequence[int], *, worker_id: str, until: datetime) -> int:
    """Push the lease of conversations `worker_id` is still syncing to `until`; the number extended."""
    return CONVERSATIONS.extend_leases(engine, conversation_ids, worker_id=worker_id, until=until)


def messages_of(engine: Engine, conversation_id: int) -> list[StoredMessage]:
    m = conversation_messages.c
    statement = select(conversation_messages).where(m.conversation_id == conversation_id).order_by(m.sent_at, m.id)
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return [StoredMessage(direction=row.direction, sent_at=row.sent_at, sender=row.sender,
                          agent_email=row.agent_email, body=row.body or "",
                          media=tuple(Media(str(item.get("name")), str(item.get("url")))
                                      for item in row.media_json or [] if isinstance(item, dict)))
            for row in rows]


def fenced(engine: Engine, conversation_id: int, worker_id: str, **values: Any) -> bool:
    """Write `values` only while `worker_id` still holds the conversation; False when it lost it."""
    values.setdefault("updated_at", utcnow())
    return CONVERSATIONS.fenced(engine, conversation_id, worker_id, **values)


def finish(engine: Engine, conversation_id: int, *, worker_id: str, snapshot_message_id: int | None,
           status: SyncState, explanation: str | None, attempt_count: int, next_attempt_at: datetime | None,
           columns: Mapping[str, Any]) -> bool:
    """Release the conversation; a sync that missed newer messages leaves it due at once."""
    now = utcnow()
    c = conversations.c
    values: dict[str, Any] = {**columns, "explanation": explanation, "attempt_count": attempt_count,
                              "locked_by": None, "locked_until": None, "updated_at": now, "rematch": False}
    newer = c.last_message_id > (snapshot_message_id if snapshot_message_id is not None else -1)
    if status in (SyncState.synced, SyncState.unmatched):
        if status is SyncState.synced:
            values["synced_message_id"] = snapshot_message_id
        values["status"] = case((newer, SyncState.pending.value), else_=status.value)
        values["next_attempt_at"] = case((newer, now), else_=None)
    else:
        values["status"] = status.value
        values["next_attempt_at"] = next_attempt_at
    return fenced(engine, conversation_id, worker_id, **values)


def requeue(engine: Engine, conversation_id: int, *, rematch: bool,
            match_json: Mapping[str, Any] | None = None) -> bool:
    """Due now with a fresh attempt budget (a person's Retry, or a record created for the number)."""
    extra = {} if match_json is None else {"match_json": dict(match_json)}
    return CONVERSATIONS.requeue(engine, conversation_id, rematch=rematch, **extra)


def unmatched_for(engine: Engine, e164: str) -> list[int]:
    """Conversations with `e164` that found nobody (or have no note yet), to hand a newly created record."""
    c = conversations.c
    statement = select(c.id).where(c.phone_e164 == e164, c.note_id.is_(None),
                                   c.status.in_((SyncState.unmatched.value, SyncState.pending.value,
                                                 SyncState.failed.value, SyncState.dead.value)))
    with engine.connect() as connection:
        return list(connection.execute(statement).scalars())


def list_conversations(engine: Engine, *, statuses: Sequence[str], limit: int,
                       after: ConversationPageKey | None) -> tuple[list[dict[str, Any]], ConversationPageKey | None]:
    """Newest first by (created_at, id), which never change: page boundaries do not move."""
    c = conversations.c
    conditions: list[ColumnElement[bool]] = [c.status.in_(list(statuses))] if statuses else []
    if after is not None:
        conditions.append(or_(c.created_at < after.created_at, and_(c.created_at == after.created_at, c.id < after.id)))
    statement = (select(conversations).where(*conditions).order_by(c.created_at.desc(), c.id.desc())
                 .limit(limit + 1))
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(statement)]
        counts = _message_counts(connection, [row["id"] for row in rows[:limit]])
    for row in rows:
        row["message_count"] = counts.get(row["id"], 0)
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], ConversationPageKey(last["created_at"], last["id"])


def get_conversation(engine: Engine, conversation_id: int) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(conversations).where(conversations.c.id == conversation_id)).first()
    return None if row is None else dict(row._mapping)


def message_rows(engine: Engine, conversation_id: int) -> list[dict[str, Any]]:
    m = conversation_messages.c
    statement = (select(m.id, m.event, m.direction, m.sent_at, m.sender, m.body, m.media_json, m.received_at)
                 .where(m.conversation_id == conversation_id).order_by(m.sent_at, m.id))
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(statement)]


def _message_counts(connection: Any, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    m = conversation_messages.c
    statement = select(m.conversation_id, func.count()).where(m.conversation_id.in_(ids)).group_by(m.conversation_id)
    return {int(row[0]): int(row[1]) for row in connection.execute(statement)}



def purge_resting(engine: Engine, *, inactive_since: datetime, limit: int = 200) -> int:
    """Delete up to `limit` resting conversations (and their messages) not updated since `inactive_since`.

    Their notes are in Bullhorn; what callbridge kept (message texts, raw payloads, the customer's number)
    goes after the retention period (DESIGN §14). No message can still join such a day's note.
    """
    c = conversations.c
    resting = (c.status.in_((SyncState.synced.value, SyncState.unmatched.value, SyncState.failed.value,
                             SyncState.dead.value)), c.updated_at < inactive_since)
    with write_connection(engine) as connection, connection.begin():
        ids = list(connection.execute(select(c.id).where(*resting).order_by(c.updated_at).limit(limit)).scalars())
        if ids:
            connection.execute(delete(conversation_messages).where(conversation_messages.c.conversation_id.in_(ids)))
            connection.execute(delete(conversations).where(c.id.in_(ids), *resting))
    return len(ids)
