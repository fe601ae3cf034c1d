"""Read queries of the ops API: call lists with keyset pages, one call with its attempts, tags, figures.

Calls are listed newest first by `(created_at, call_id)`: `created_at` is written once, when the
first event of a call is stored, and never changes, so a page boundary never moves. A call that
arrives while someone pages sorts before the first page instead of shifting later ones
(`updated_at` moves on every event, `started_at` is filled in later by the worker: both would
reorder rows between two page fetches).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from insight.store.tables import attempts, calls
from shared.states import SyncState

#: attempt kinds that write (or find) the note: their first success is when the call reached Bullhorn
NOTE_WRITE_KINDS = ("create", "update", "reconcile")
#: a call is waiting for a worker in these states (`syncing` is being worked on right now)
QUEUED_STATES = (SyncState.pending.value, SyncState.retrying.value)

# The list does not need the note body or the lease columns; the detail reads the whole row.
_LIST_COLUMNS = [
    column
    for column in calls.c
    if column.name not in ("synced_body_json", "synced_body_hash", "locked_by", "locked_until", "write_intent_at")
]


@dataclass(frozen=True)
class CallFilters:
    statuses: tuple[str, ...] = ()
    direction: str | None = None
    #: matched ignoring case
    agent_email: str | None = None
    call_type: str | None = None
    #: bounds on when the call started (when it was first seen, while its start is not yet known)
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class PageKey:
    """Where a page ended: the next page holds the calls strictly older than this one."""

    created_at: datetime
    call_id: int


@dataclass(frozen=True)
class CallPage:
    calls: list[dict[str, Any]]
    #: None on the last page
    next_key: PageKey | None


@dataclass(frozen=True)
class SyncTiming:
    """One call of the figures window: when it came, where it stands, when its note first landed."""

    created_at: datetime
    status: str
    ended_at: datetime | None
    synced_at: datetime | None


@dataclass(frozen=True)
class QueueFigures:
    #: calls in pending or retrying
    depth: int
    #: of those, the ones whose next attempt is due now
    due: int
    #: the earliest due time among them: how long the queue has kept someone waiting
    oldest_due_at: datetime | None


def list_calls(engine: Engine, filters: CallFilters, *, limit: int, after: PageKey | None = None) -> CallPage:
    conditions = _conditions(filters)
    if after is not None:
        conditions.append(
            or_(
                calls.c.created_at < after.created_at,
                and_(calls.c.created_at == after.created_at, calls.c.call_id < after.call_id),
            )
        )
    statement = (
        select(*_LIST_COLUMNS)
        .where(*conditions)
        .order_by(calls.c.created_at.desc(), calls.c.call_id.desc())
        .limit(limit + 1)
    )
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(statement)]
    if len(rows) <= limit:
        return CallPage(calls=rows, next_key=None)
    last = rows[limit - 1]
    return CallPage(calls=rows[:limit], next_key=PageKey(created_at=last["created_at"], call_id=last["call_id"]))


def get_call(engine: Engine, call_id: int) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(calls).where(calls.c.call_id == call_id)).first()
    return None if row is None else dict(row._mapping)


def attempts_for_call(engine: Engine, call_id: int) -> list[dict[str, Any]]:
    statement = select(attempts).where(attempts.c.call_id == call_id).order_by(attempts.c.id)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(statement)]


def tag_counts(engine: Engine, *, since: datetime) -> Counter[str]:
    """How many calls first seen since `since` carry each agent tag (once per call).

    Tags Aircall sets itself (`tagged_by` empty) are left out: they never become the note's
    action, so there is nothing to fix about them.
    """
    counts: Counter[str] = Counter()
    for state in _states(engine, since):
        tags = state.get("tags") if isinstance(state, dict) else None
        if not isinstance(tags, list):
            continue
        names = {
            tag["name"]
            for tag in tags
            if isinstance(tag, dict) and isinstance(tag.get("name"), str) and tag.get("by_agent") is not False
        }
        counts.update(names)
    return counts


def state_counts(engine: Engine) -> dict[str, int]:
    """Calls per sync state, every state present (zero when none)."""
    statement = select(calls.c.status, func.count()).group_by(calls.c.status)
    with engine.connect() as connection:
        found = {status: count for status, count in connection.execute(statement)}
    return {state.value: int(found.get(state.value, 0)) for state in SyncState}


def attempt_counts(engine: Engine) -> dict[tuple[str, str | None], int]:
    """Attempts recorded by the workers, per (kind, outcome)."""
    statement = select(attempts.c.kind, attempts.c.outcome, func.count()).group_by(attempts.c.kind, attempts.c.outcome)
    with engine.connect() as connection:
        return {(str(kind), outcome): int(count) for kind, outcome, count in connection.execute(statement)}


def card_counts(engine: Engine) -> dict[str, int]:
    """Calls per Insight Card outcome (`pushed`, `failed`, `pushing`); calls with no card push are left out."""
    statement = (
        select(calls.c.card_status, func.count()).where(calls.c.card_status.is_not(None)).group_by(calls.c.card_status)
    )
    with engine.connect() as connection:
        return {str(status): int(count) for status, count in connection.execute(statement)}


def queue_figures(engine: Engine, now: datetime) -> QueueFigures:
    queued = calls.c.status.in_(QUEUED_STATES)
    due = and_(queued, calls.c.next_attempt_at.is_not(None), calls.c.next_attempt_at <= now)
    with engine.connect() as connection:
        depth = connection.execute(select(func.count()).where(queued)).scalar_one()
        due_count, oldest = connection.execute(select(func.count(), func.min(calls.c.next_attempt_at)).where(due)).one()
    return QueueFigures(depth=int(depth), due=int(due_count), oldest_due_at=oldest)


def sync_timings(engine: Engine, since: datetime) -> list[SyncTiming]:
    """Calls first seen since `since`, each with the finish time of its first successful note write."""
    first_write = (
        select(attempts.c.call_id, func.min(attempts.c.finished_at).label("synced_at"))
        .where(
            attempts.c.kind.in_(NOTE_WRITE_KINDS),
            attempts.c.finished_at.is_not(None),
            attempts.c.error.is_(None),
            # a reconciliation that found no note proves nothing reached Bullhorn
            or_(attempts.c.outcome.is_(None), attempts.c.outcome != "not_found"),
        )
        .group_by(attempts.c.call_id)
        .subquery()
    )
    statement = (
        select(calls.c.created_at, calls.c.status, calls.c.ended_at, first_write.c.synced_at)
        .select_from(calls.outerjoin(first_write, first_write.c.call_id == calls.c.call_id))
        .where(calls.c.created_at >= since)
        .order_by(calls.c.created_at)
    )
    with engine.connect() as connection:
        rows = list(connection.execute(statement))
    return [
        SyncTiming(
            created_at=row.created_at,
            status=row.status,
            ended_at=row.ended_at,
            synced_at=row.synced_at,
        )
        for row in rows
    ]


def _conditions(filters: CallFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(calls.c.status.in_(filters.statuses))
    if filters.direction:
        conditions.append(calls.c.direction == filters.direction)
    if filters.agent_email:
        conditions.append(func.lower(calls.c.agent_email) == filters.agent_email.lower())
    if filters.call_type:
        conditions.append(calls.c.call_type == filters.call_type)
    started = func.coalesce(calls.c.started_at, calls.c.created_at)
    if filters.since is not None:
        conditions.append(started >= filters.since)
    if filters.until is not None:
        conditions.append(started < filters.until)
    return conditions


def _states(engine: Engine, since: datetime) -> Iterator[Any]:
    statement = select(calls.c.state_json).where(calls.c.created_at >= since).execution_options(yield_per=500)
    with engine.connect() as connection:
        for (state,) in connection.execute(statement):
            yield state
