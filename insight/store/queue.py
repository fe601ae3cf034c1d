"""The durable sync queue: the `calls` rows themselves, claimed by workers under a lease.

How rows are claimed, leased and fenced is `insight.store.leases`'; this module says what a claimed
call carries and how a call's sync attempt is recorded and released.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, case, insert

from insight.store.leases import LeasedTable
from insight.store.limits import fit
from insight.store.tables import attempts, calls, utcnow
from shared.states import SyncState

CALLS = LeasedTable(calls, calls.c.call_id)


@dataclass(frozen=True)
class ClaimedCall:
    """The row as the worker found it when it claimed the call."""

    call_id: int
    #: the newest event the worker's read covers; a later one means "sync again"
    last_event_id: int | None
    attempt_count: int
    rematch: bool
    match_json: Mapping[str, Any] | None
    note_id: int | None
    note_person_entity: str | None
    note_person_id: int | None
    write_intent_at: datetime | None
    synced_body_json: Mapping[str, Any] | None
    phone_e164: str | None
    #: AI contents fetched before and write-once bookkeeping (insight.domain.ai_insights)
    ai_json: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Finish:
    """How a sync attempt ended: the call's next state and what the ops console shows about it.

    The sync says what happened; the worker's retry policy then sets `attempt_count` and, for
    `retrying`, `next_attempt_at` (or turns it into `dead`) before the store writes it.
    """

    status: SyncState
    explanation: str | None = None
    #: for `pending`: when it becomes due (None: when call.ended arrives); for `retrying`: the retry
    next_attempt_at: datetime | None = None
    attempt_count: int = 0
    #: the reduced call: summary columns, `state_json`, `flags_json`, `action`, `match_json`
    columns: Mapping[str, Any] | None = None
    #: the match was looked up afresh, so a requested re-match is done
    rematched: bool = False
    #: for `retrying`: the wait the upstream asked for (the policy reads it; it is not stored)
    retry_after_s: float | None = None


def claim_due(engine: Engine, *, worker_id: str, now: datetime, lease_s: float, limit: int) -> list[ClaimedCall]:
    """Claim up to `limit` due calls (oldest due first) for `worker_id` until `now + lease_s`."""
    rows = CALLS.claim_due(engine, worker_id=worker_id, now=now, lease_s=lease_s, limit=limit)
    return [
        ClaimedCall(
            call_id=row.call_id,
            last_event_id=row.last_event_id,
            attempt_count=row.attempt_count,
            rematch=bool(row.rematch),
            match_json=row.match_json,
            note_id=row.note_id,
            note_person_entity=row.note_person_entity,
            note_person_id=row.note_person_id,
            write_intent_at=row.write_intent_at,
            synced_body_json=row.synced_body_json,
            phone_e164=row.phone_e164,
            ai_json=row.ai_json,
        )
        for row in rows
    ]


def extend_leases(engine: Engine, call_ids: Sequence[int], *, worker_id: str, until: datetime) -> int:
    """Push the lease of calls `worker_id` is still syncing to `until`; the number of calls extended."""
    return CALLS.extend_leases(engine, call_ids, worker_id=worker_id, until=until)


def mark_write_intent(
    engine: Engine, call_id: int, *, worker_id: str, person_entity: str, person_id: int, body: Mapping[str, Any]
) -> bool:
    """Commit "a note PUT is about to go out" before it goes; False when the lease was lost (do not send)."""
    now = utcnow()
    return _fenced(
        engine,
        call_id,
        worker_id,
        write_intent_at=now,
        note_person_entity=person_entity,
        note_person_id=person_id,
        synced_body_json=dict(body),
        updated_at=now,
    )


def record_note(
    engine: Engine,
    call_id: int,
    *,
    worker_id: str,
    note_id: int,
    person_entity: str,
    person_id: int,
    body: Mapping[str, Any],
    body_hash: str,
) -> bool:
    """Bullhorn answered with (or reconciliation found) the note: keep its id and the body it now holds."""
    return _fenced(
        engine,
        call_id,
        worker_id,
        note_id=note_id,
        note_person_entity=person_entity,
        note_person_id=person_id,
        write_intent_at=None,
        synced_body_json=dict(body),
        synced_body_hash=body_hash,
        updated_at=utcnow(),
    )


def clear_write_intent(engine: Engine, call_id: int, *, worker_id: str) -> bool:
    """Bullhorn refused the PUT outright, so nothing can have been written."""
    return _fenced(engine, call_id, worker_id, write_intent_at=None, updated_at=utcnow())


def finish(engine: Engine, call_id: int, *, worker_id: str, snapshot_event_id: int | None, result: Finish) -> bool:
    """Release the call with its outcome; False when another worker took it over meanwhile.

    A call that synced while newer events arrived goes back to `pending`, due at once, so those
    events reach the note too.
    """
    now = utcnow()
    values: dict[str, Any] = dict(result.columns or {})
    values.update(
        explanation=result.explanation,
        attempt_count=result.attempt_count,
        locked_by=None,
        locked_until=None,
        updated_at=now,
    )
    if result.rematched:
        values["rematch"] = False
    newer = calls.c.last_event_id > (snapshot_event_id if snapshot_event_id is not None else -1)
    if result.status is SyncState.synced:
        values["synced_event_id"] = snapshot_event_id
        values["status"] = case((newer, SyncState.pending.value), else_=SyncState.synced.value)
        values["next_attempt_at"] = case((newer, now), else_=None)
    elif result.status is SyncState.pending and result.next_attempt_at is None:
        # not over yet: due again only if call.ended was stored meanwhile
        values["status"] = SyncState.pending.value
        values["next_attempt_at"] = case((and_(newer, calls.c.is_over), now), else_=None)
    else:
        values["status"] = result.status.value
        values["next_attempt_at"] = result.next_attempt_at
    return _fenced(engine, call_id, worker_id, **values)


def record_attempt(
    engine: Engine,
    call_id: int,
    *,
    kind: str,
    started_at: datetime,
    outcome: str,
    request_summary: str | None = None,
    status_code: int | None = None,
    error: str | None = None,
    explanation: str | None = None,
) -> None:
    """One row per Bullhorn write (create, update), reconciliation or fresh match, for the ops console."""
    with engine.begin() as connection:
        connection.execute(
            insert(attempts).values(
                fit(attempts, {
                    "call_id": call_id,
                    "kind": kind,
                    "started_at": started_at,
                    "finished_at": utcnow(),
                    "request_summary": request_summary,
                    "status_code": status_code,
                    "outcome": outcome,
                    "error": error,
                    "explanation": explanation,
                })
            )
        )


def requeue(engine: Engine, call_id: int, *, rematch: bool) -> bool:
    """A person's Retry: due now with a fresh attempt budget; `rematch` looks the number up again.

    The explanation stays until the next outcome replaces it. False when the call is unknown or a
    worker is syncing it right now (its lease is live), so the caller can answer 409.
    """
    return CALLS.requeue(engine, call_id, rematch=rematch)


def _fenced(engine: Engine, call_id: int, worker_id: str, **values: Any) -> bool:
    return CALLS.fenced(engine, call_id, worker_id, **values)
