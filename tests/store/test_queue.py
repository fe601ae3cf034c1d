from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from insight.store import Store
from insight.store.queue import Finish, claim_due, finish, requeue
from insight.store.tables import calls, utcnow
from sandbox.calls import CallKind, ScheduledEvent
from shared.states import SyncState
from tests.intake_kit import record
from tests.stack import running_stack
from tests.worker_kit import caller, events_of, notes_of, play, script


def _record(store: Store, event: ScheduledEvent) -> bool:
    return record(store, event.envelope).new


def _row(store: Store, call_id: int) -> dict[str, Any]:
    with store.engine.connect() as connection:
        return dict(connection.execute(select(calls).where(calls.c.call_id == call_id)).one()._mapping)


def _set(store: Store, call_id: int, **values: Any) -> None:
    with store.engine.begin() as connection:
        connection.execute(update(calls).where(calls.c.call_id == call_id).values(**values))


def _until_ended(call_id: int) -> tuple[list[ScheduledEvent], ScheduledEvent, list[ScheduledEvent]]:
    events = events_of(script(call_id, "+1 415-555-0123", CallKind.OUTBOUND_ANSWERED))
    index = next(i for i, event in enumerate(events) if event.envelope["event"] == "call.ended")
    return events[:index], events[index], events[index + 1:]


def test_intake_keeps_the_newest_event_id_and_the_summary_it_can_read(store: Store) -> None:
    before, _ended, _after = _until_ended(801)
    for event in before:
        _record(store, event)

    stored = _row(store, 801)
    assert stored["last_event_id"] == max(event.id for event in store.events_for_call(801))
    assert stored["started_at"] is not None and stored["number_name"] == "London Desk"
    assert stored["agent_email"] == "grace.hopper@northwind-staffing.com" and stored["agent_id"] == 731401
    assert (stored["status"], stored["next_attempt_at"], stored["rematch"]) == ("pending", None, False)


def test_a_call_becomes_due_when_call_ended_is_stored(store: Store) -> None:
    before, ended, _after = _until_ended(802)
    for event in before:
        _record(store, event)
    _record(store, ended)

    stored = _row(store, 802)
    assert stored["is_over"] is True and stored["next_attempt_at"] <= utcnow()


@pytest.mark.parametrize(
    ("status", "becomes"),
    [("synced", "pending"), ("failed", "failed"), ("dead", "dead"), ("unmatched", "unmatched"),
     ("retrying", "retrying"), ("syncing", "syncing")],
)
def test_a_late_event_reopens_only_a_synced_call(store: Store, status: str, becomes: str) -> None:
    before, ended, after = _until_ended(803)
    for event in [*before, ended]:
        _record(store, event)
    later = utcnow() + timedelta(hours=1)
    _set(store, 803, status=status, next_attempt_at=None if status == "synced" else later)

    late = {**ended.envelope, "event": "call.commented", "timestamp": ended.envelope["timestamp"] + 90}
    assert _record(store, ScheduledEvent(0, late))

    stored = _row(store, 803)
    assert stored["status"] == becomes
    if status == "synced":
        assert stored["next_attempt_at"] <= utcnow()
    else:
        assert stored["next_attempt_at"] == later


def test_a_due_call_is_claimed_once_and_again_only_after_its_lease_runs_out(store: Store) -> None:
    for event in events_of(script(804, "+1 415-555-0123")):
        _record(store, event)
    now = utcnow()

    [claimed] = claim_due(store.engine, worker_id="a", now=now, lease_s=60, limit=10)
    assert claim_due(store.engine, worker_id="b", now=now + timedelta(seconds=59), lease_s=60, limit=10) == []
    [taken_over] = claim_due(store.engine, worker_id="b", now=now + timedelta(seconds=61), lease_s=60, limit=10)

    assert claimed.call_id == taken_over.call_id == 804 and _row(store, 804)["locked_by"] == "b"
    assert not finish(store.engine, 804, worker_id="a", snapshot_event_id=claimed.last_event_id,
                      result=Finish(SyncState.synced))
    assert finish(store.engine, 804, worker_id="b", snapshot_event_id=claimed.last_event_id,
                  result=Finish(SyncState.synced))
    assert _row(store, 804)["status"] == "synced"


def test_a_call_synced_while_newer_events_arrived_goes_back_to_pending(store: Store) -> None:
    before, ended, after = _until_ended(805)
    for event in [*before, ended]:
        _record(store, event)
    [claimed] = claim_due(store.engine, worker_id="a", now=utcnow(), lease_s=60, limit=1)
    late = {**ended.envelope, "event": "call.tagged", "timestamp": ended.envelope["timestamp"] + 60}
    _record(store, ScheduledEvent(0, late))

    finish(store.engine, 805, worker_id="a", snapshot_event_id=claimed.last_event_id, result=Finish(SyncState.synced))

    stored = _row(store, 805)
    assert stored["status"] == "pending" and stored["next_attempt_at"] <= utcnow()
    assert stored["synced_event_id"] == claimed.last_event_id < stored["last_event_id"]


def test_requeue_makes_a_call_due_now_with_a_fresh_budget_and_refuses_one_in_flight(store: Store) -> None:
    for event in events_of(script(806, "+1 415-555-0123")):
        _record(store, event)
    _set(store, 806, status="unmatched", attempt_count=4, next_attempt_at=None, explanation="No live record")

    assert requeue(store.engine, 806, rematch=True)
    stored = _row(store, 806)
    assert (stored["status"], stored["attempt_count"], stored["rematch"]) == ("pending", 0, True)
    assert stored["explanation"] == "No live record"
    claim_due(store.engine, worker_id="a", now=utcnow(), lease_s=60, limit=1)
    assert not requeue(store.engine, 806, rematch=False)
    assert not requeue(store.engine, 999_999, rematch=False)


@pytest.mark.anyio
async def test_two_workers_never_write_the_same_call_twice(
    tmp_path: Path, store_url: str, store_factory: Callable[[], Store]
) -> None:
    numbers = [caller(kind).raw_digits for kind in ("candidate", "contact", "two_candidates")]
    async with running_stack(tmp_path, database_url=store_url) as stack:
        for index in range(24):
            await play(stack, script(8100 + index, numbers[index % 3]))
        first = await stack.worker(store=store_factory(), worker_id="first", calls_in_flight=4)
        second = await stack.worker(store=store_factory(), worker_id="second", calls_in_flight=4)

        one, two = await asyncio.gather(first.run_once(), second.run_once())

        assert one["synced"] + two["synced"] == 24 and one["synced"] > 0 and two["synced"] > 0
        assert all(len(notes_of(stack, 8100 + index)) == 1 for index in range(24))
