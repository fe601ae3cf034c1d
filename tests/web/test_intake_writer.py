"""The web's one writer: group commit, the pre-commit hook the card claim uses, card outcomes riding along."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from bench.traffic import call_scripts, webhook_stream
from insight.domain.aircall_events import parse_envelope
from insight.store import Store
from insight.store.intake_batch import (
    BatchItem,
    CardOutcome,
    EventToRecord,
    RecordedEvent,
    event_to_record,
    write_batch,
)
from insight.store.tables import calls
from insight.web.intake_writer import IntakeFailed, IntakeWriter

pytestmark = pytest.mark.anyio

CARD_EVENTS = {"call.created", "call.ringing_on_agent", "call.answered"}


def _items(calls_count: int, seed: int = 3) -> list[EventToRecord]:
    stream = webhook_stream(call_scripts(calls_count, seed=seed, started_at=1_795_000_000), token="t", seed=seed)
    items = []
    for envelope in stream:
        parsed = parse_envelope(envelope)
        items.append(event_to_record(parsed, json.dumps(envelope), claim_card=parsed.event in CARD_EVENTS))
    # the same delivery twice in a row: both land in one batch
    return [*items[:3], items[2], *items[3:]]


def _outcome(call_id: int) -> CardOutcome:
    return CardOutcome(call_id, "pushed", "+14155550123", [{"entity": "Candidate", "id": 7, "name": "Ada"}], None)


def _card_status(store: Store, call_id: int) -> str | None:
    with store.engine.connect() as connection:
        return connection.execute(select(calls.c.card_status).where(calls.c.call_id == call_id)).scalar_one_or_none()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'intake.db'}")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def observer(store: Store) -> Store:
    """Another connection pool on the same file: it sees only what was committed."""
    return Store(store.engine.url.render_as_string(hide_password=False))


async def test_every_request_is_answered_only_once_its_batch_is_committed(store: Store, observer: Store) -> None:
    items = _items(calls_count=8)

    async def deliver(writer: IntakeWriter, item: EventToRecord) -> RecordedEvent:
        result = await writer.record(item)
        # another connection already sees it: the answer came after the commit
        assert any(event.dedupe_key == item.dedupe_key for event in observer.events_for_call(item.call_id))
        return result

    async with IntakeWriter(store.engine).running() as writer:
        results = await asyncio.gather(*(deliver(writer, item) for item in items))
    assert writer.batches < len(items)
    assert sum(result.new for result in results) == len({item.dedupe_key for item in items})
    observer.dispose()


async def test_a_failing_batch_is_retried_alone_and_only_the_bad_event_fails(store: Store) -> None:
    good, bad = _items(calls_count=2)[:2]

    def write(connection: Connection, batch: Sequence[BatchItem]) -> list[RecordedEvent | None]:
        if bad in batch:
            raise RuntimeError("the store refused this event")
        return write_batch(connection, batch)

    async with IntakeWriter(store.engine, write=write).running() as writer:
        answers = await asyncio.gather(writer.record(good), writer.record(bad), return_exceptions=True)
    assert answers[0] == RecordedEvent(new=True, card_claimed=True)
    assert isinstance(answers[1], IntakeFailed)
    assert [event.dedupe_key for event in store.events_for_call(good.call_id)] == [good.dedupe_key]
    assert store.events_for_call(bad.call_id) == [] or bad.call_id == good.call_id


async def test_on_written_learns_the_claim_before_the_commit_makes_the_event_visible(
    store: Store, observer: Store
) -> None:
    created = _items(calls_count=1)[0]
    seen: list[tuple[RecordedEvent | None, int]] = []

    def on_written(recorded: RecordedEvent | None) -> None:
        seen.append((recorded, len(observer.events_for_call(created.call_id))))

    async with IntakeWriter(store.engine).running() as writer:
        recorded = await writer.record(created, on_written=on_written)

    assert seen == [(RecordedEvent(new=True, card_claimed=True), 0)]
    assert recorded == RecordedEvent(new=True, card_claimed=True)
    assert len(observer.events_for_call(created.call_id)) == 1
    observer.dispose()


async def test_a_batch_whose_statements_fail_tells_on_written_the_event_was_not_stored(store: Store) -> None:
    created = _items(calls_count=1)[0]
    seen: list[RecordedEvent | None] = []

    def write(connection: Connection, batch: Sequence[BatchItem]) -> list[RecordedEvent | None]:
        raise RuntimeError("disk full")

    async with IntakeWriter(store.engine, write=write).running() as writer:
        with pytest.raises(IntakeFailed):
            await writer.record(created, on_written=seen.append)
    assert seen == [None]


async def test_on_written_is_told_even_when_the_request_that_handed_the_event_in_went_away(store: Store) -> None:
    created = _items(calls_count=1)[0]
    seen: list[RecordedEvent | None] = []
    async with IntakeWriter(store.engine).running() as writer:
        request = asyncio.get_running_loop().create_task(writer.record(created, on_written=seen.append))
        await asyncio.sleep(0)  # handed in, not yet written
        request.cancel()

    assert seen == [RecordedEvent(new=True, card_claimed=True)]
    assert len(store.events_for_call(created.call_id)) == 1


async def test_a_card_outcome_rides_along_with_the_next_events_in_one_transaction(store: Store) -> None:
    created = _items(calls_count=1)[0]
    async with IntakeWriter(store.engine, ride_along_s=3600).running() as writer:
        await writer.record(created)
        writer.record_card(_outcome(created.call_id))
        await asyncio.sleep(0.05)
        assert _card_status(store, created.call_id) == "pushing"  # waiting for company
        second = _items(calls_count=2)[-1]
        await writer.record(second)

        assert _card_status(store, created.call_id) == "pushed"
        assert writer.batches == 2  # the first event's, then the second event's with the outcome


async def test_a_card_outcome_alone_is_written_once_it_waited_its_ride_along_time(store: Store) -> None:
    created = _items(calls_count=1)[0]
    async with IntakeWriter(store.engine, ride_along_s=0.05).running() as writer:
        await writer.record(created)
        writer.record_card(_outcome(created.call_id))
        for _ in range(1000):  # at most 10 s: a loaded machine
            if _card_status(store, created.call_id) == "pushed":
                break
            await asyncio.sleep(0.01)
        assert _card_status(store, created.call_id) == "pushed"
        assert writer.batches == 2


async def test_flush_and_stopping_write_the_outcomes_still_waiting(store: Store) -> None:
    first, second = (item for item in _items(calls_count=2) if item.event == "call.created")
    async with IntakeWriter(store.engine, ride_along_s=3600).running() as writer:
        await writer.record(first)
        await writer.record(second)
        writer.record_card(_outcome(first.call_id))
        await writer.flush()
        assert _card_status(store, first.call_id) == "pushed"
        writer.record_card(_outcome(second.call_id))
    assert _card_status(store, second.call_id) == "pushed"
    assert writer.pending == 0


async def test_an_outcome_handed_in_after_the_writer_stopped_is_logged_not_raised(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    async with IntakeWriter(store.engine).running() as writer:
        pass
    writer.record_card(_outcome(1))
    assert "not stored: the intake writer is stopped" in caplog.text


