"""Group commit: a batch writes the rows of its events one at a time; the writer answers only after commit."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, select, text, update

from bench.traffic import call_scripts, webhook_stream
from insight.domain.aircall_events import parse_envelope
from insight.store import Store
from insight.store.intake_batch import (
    BatchItem,
    CardOutcome,
    EventToRecord,
    RecordedEvent,
    event_to_record,
    record_batch,
    write_batch,
)
from insight.store.tables import calls, events
from shared.states import SyncState
from tests.stack import WEBHOOK_TOKEN, running_stack

CARD_EVENTS = {"call.created", "call.ringing_on_agent", "call.answered"}
FROZEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _item(envelope: dict[str, Any]) -> EventToRecord:
    parsed = parse_envelope(envelope)
    return event_to_record(parsed, json.dumps(envelope), claim_card=parsed.event in CARD_EVENTS)


def _items(calls_count: int = 30, seed: int = 3) -> list[EventToRecord]:
    stream = webhook_stream(call_scripts(calls_count, seed=seed, started_at=1_795_000_000), token="t", seed=seed)
    items = [_item(envelope) for envelope in stream]
    # the same delivery twice in a row: both land in one batch
    return [*items[:3], items[2], *items[3:]]


def _card(call_id: int, index: int) -> CardOutcome:
    status = "pushed" if index % 2 else "failed"
    matches = [{"entity": "Candidate", "id": index, "name": "Ada"}]
    return CardOutcome(call_id, status, "+14155550123", matches, None if status == "pushed" else "HTTP 503")


def _set_states(engine: Engine) -> None:
    """Calls in every state a new event may meet: synced, retrying, failed, a card already claimed."""
    with engine.begin() as connection:
        ids = sorted(connection.execute(select(calls.c.call_id)).scalars())
        states = [SyncState.synced, SyncState.retrying, SyncState.failed, SyncState.pending]
        for position, call_id in enumerate(ids):
            state = states[position % len(states)]
            due = FROZEN.replace(hour=10) if state is SyncState.retrying else None
            connection.execute(
                update(calls).where(calls.c.call_id == call_id).values(status=state.value, next_attempt_at=due)
            )


def _one_by_one(engine: Engine, plan: Sequence[BatchItem]) -> list[RecordedEvent | None]:
    return [result for item in plan for result in record_batch(engine, [item], now=FROZEN)]


def _batched(engine: Engine, plan: Sequence[BatchItem]) -> list[RecordedEvent | None]:
    sizes = random.Random(5)
    results: list[RecordedEvent | None] = []
    start = 0
    while start < len(plan):
        size = sizes.choice([1, 2, 7, 17, 40])
        results.extend(record_batch(engine, plan[start : start + size], now=FROZEN))
        start += size
    return results


def _rows(connection: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    keys = {row.id: row.dedupe_key for row in connection.execute(select(events.c.id, events.c.dedupe_key))}
    stored = [
        {name: value for name, value in row._mapping.items() if name != "id"}
        for row in connection.execute(select(events).order_by(events.c.dedupe_key))
    ]
    call_rows = []
    for row in connection.execute(select(calls).order_by(calls.c.call_id)):
        values = dict(row._mapping)
        # ids differ between runs (PostgreSQL sequences do not restart); the event they name must not
        values["last_event_id"] = keys.get(values["last_event_id"])
        call_rows.append(values)
    return stored, call_rows


def _run(store: Store, plan_before: list[BatchItem], plan_after: list[BatchItem], path: Any) -> tuple[Any, ...]:
    with store.engine.begin() as connection:
        connection.execute(delete(calls))
        connection.execute(delete(events))
    first = path(store.engine, plan_before)
    _set_states(store.engine)
    second = path(store.engine, plan_after)
    with store.engine.connect() as connection:
        return (first, second, *_rows(connection))


def test_batches_of_any_size_write_exactly_the_rows_of_the_same_items_written_one_at_a_time(store: Store) -> None:
    items = _items()
    half = len(items) // 2
    cards = [_card(item.call_id, index) for index, item in enumerate(items[:half:9])]
    before: list[BatchItem] = [*items[:half], *cards]
    # redeliveries of events stored before, and new events of calls now synced, retrying or failed
    after: list[BatchItem] = [*items[half - 20 :], _card(items[-1].call_id, 1)]

    single = _run(store, before, after, _one_by_one)
    batched = _run(store, before, after, _batched)

    assert batched[0] == single[0] and batched[1] == single[1]
    assert batched[2] == single[2]
    assert batched[3] == single[3]
    outcomes = [result for result in single[0] + single[1] if result is not None]
    assert {result.new for result in outcomes} == {True, False}
    assert any(result.card_claimed for result in outcomes)


def test_a_delivery_repeated_within_one_batch_is_stored_once(store: Store) -> None:
    item = _items(calls_count=2)[0]
    with store.engine.begin() as connection:
        results = write_batch(connection, [item, item])
    assert results == [RecordedEvent(new=True, card_claimed=True), RecordedEvent(new=False, card_claimed=False)]
    assert len(store.events_for_call(item.call_id)) == 1


@pytest.mark.anyio
async def test_an_event_the_store_cannot_take_is_a_503_and_never_accepted(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        envelope = webhook_stream(call_scripts(1, seed=9, started_at=1_795_000_000), token=WEBHOOK_TOKEN)[0]
        with stack.store.engine.begin() as connection:
            # the database itself refuses every new event, as a full disk or a failing volume would
            connection.execute(text(
                "CREATE TRIGGER refuse_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            ))

        response = await stack.web.post("/webhooks/aircall", json=envelope)

        assert response.status_code == 503
        assert response.json()["error"] == "unavailable"
        assert stack.store.events_for_call(envelope["data"]["id"]) == []


def test_a_card_outcome_that_sent_no_new_card_keeps_the_push_time_and_stores_the_pipeline_it_brings(
    store: Store,
) -> None:
    item = _items(calls_count=1)[0]
    pipeline = {"entity": "Candidate", "id": 1, "read_at": "2026-11-25T08:58:00Z", "items": [], "count": 0}
    record_batch(store.engine, [item, _card(item.call_id, 1)], now=FROZEN)
    refreshed = CardOutcome(item.call_id, "pushed", "+14155550123", [{"entity": "Candidate", "id": 1}], None,
                            pipeline=pipeline, sent=False)
    record_batch(store.engine, [refreshed], now=FROZEN.replace(minute=1))

    with store.engine.connect() as connection:
        stored = connection.execute(select(calls).where(calls.c.call_id == item.call_id)).one()
    assert stored.card_pushed_at.replace(tzinfo=UTC) == FROZEN
    assert stored.match_json["pipeline"] == pipeline
