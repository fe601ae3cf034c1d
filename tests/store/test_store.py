from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from insight.store import Store, StoreError, StoreUnavailable
from insight.store.engine import normalise_url, write_connection
from insight.store.tables import calls, events
from shared.states import SyncState
from tests.intake_kit import record_raw

PAYLOAD = '{"resource": "call", "event": "call.created", "timestamp": 1700000000, "data": {"id": 42}}'


def test_sync_states_are_the_design_vocabulary_and_plain_strings() -> None:
    assert [state.value for state in SyncState] == [
        "pending",
        "syncing",
        "synced",
        "retrying",
        "failed",
        "unmatched",
        "dead",
    ]
    assert SyncState("retrying") is SyncState.retrying
    assert f"{SyncState.synced}" == "synced" and SyncState.synced == "synced"


def _record(store: Store, key: str, call_id: int, event: str, timestamp: int, payload: str) -> bool:
    return record_raw(store, dedupe_key=key, call_id=call_id, event=event, timestamp=timestamp, payload=payload).new


def _key(event: str, call_id: int, timestamp: int) -> str:
    return f"{event}:{call_id}:{timestamp}"


def test_the_same_event_inserted_twice_is_stored_once_and_the_second_says_duplicate(store: Store) -> None:
    key = _key("call.created", 42, 1700000000)

    assert _record(store, key, 42, "call.created", 1700000000, PAYLOAD) is True
    assert _record(store, key, 42, "call.created", 1700000000, PAYLOAD) is False

    [stored] = store.events_for_call(42)
    assert (stored.dedupe_key, stored.call_id, stored.event, stored.event_timestamp) == (
        key,
        42,
        "call.created",
        1700000000,
    )
    assert stored.payload == PAYLOAD


def test_concurrent_inserts_of_one_key_have_exactly_one_winner(store: Store) -> None:
    racers = 8
    start = threading.Barrier(racers)

    def insert(_: int) -> bool:
        start.wait()
        return _record(store, "call.ended:7:1700000100", 7, "call.ended", 1700000100, PAYLOAD)

    with ThreadPoolExecutor(racers) as pool:
        results = list(pool.map(insert, range(racers)))

    assert results.count(True) == 1
    assert len(store.events_for_call(7)) == 1


def test_events_come_back_in_arrival_order_not_event_timestamp_order(store: Store) -> None:
    arrivals = [("call.ended", 300), ("call.created", 100), ("call.answered", 200), ("call.tagged", 250)]
    for event, timestamp in arrivals:
        _record(store, _key(event, 9, timestamp), 9, event, timestamp, PAYLOAD)
    _record(store, _key("call.created", 10, 100), 10, "call.created", 100, PAYLOAD)

    stored = store.events_for_call(9)

    assert [(event.event, event.event_timestamp) for event in stored] == arrivals
    assert [event.id for event in stored] == sorted(event.id for event in stored)


def test_read_then_write_transactions_on_a_write_connection_wait_for_each_other_instead_of_failing(
    store: Store,
) -> None:
    racers = 4
    start = threading.Barrier(racers)

    def count_then_insert(n: int) -> None:
        start.wait()
        with write_connection(store.engine) as connection, connection.begin():
            seen = connection.execute(select(func.count()).select_from(events)).scalar_one()
            time.sleep(0.05)
            values = {"dedupe_key": f"k{n}", "call_id": 3, "event": "e", "event_timestamp": seen, "payload": "{}"}
            connection.execute(insert(events).values(received_at=datetime.now(UTC), **values))

    with ThreadPoolExecutor(racers) as pool:
        list(pool.map(count_then_insert, range(racers)))

    seen = sorted(event.event_timestamp for event in store.events_for_call(3))
    assert len(seen) == racers
    if store.dialect == "sqlite":
        # IMMEDIATE serialises them whole: each saw every insert before its own
        assert seen == list(range(racers))


def test_timestamps_come_back_timezone_aware_in_utc(store: Store) -> None:
    before = datetime.now(UTC)
    _record(store, "call.created:5:1", 5, "call.created", 1, PAYLOAD)

    [stored] = store.events_for_call(5)

    assert stored.received_at.tzinfo == UTC
    assert before <= stored.received_at <= datetime.now(UTC)


def test_call_ids_beyond_32_bits_and_json_columns_round_trip(store: Store) -> None:
    big = 2**40 + 7
    now = datetime.now(UTC)
    row = {
        "call_id": big,
        "is_over": False,
        "state_json": {"tags": [{"name": "Interview", "tagged_at": 1}]},
        "match_json": None,
        "flags_json": [],
        "status": SyncState.pending,
        "attempt_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    with store.engine.begin() as connection:
        connection.execute(insert(calls).values(row))
        stored = connection.execute(select(calls).where(calls.c.call_id == big)).one()

    assert stored.state_json == row["state_json"]
    assert stored.match_json is None
    assert stored.status == "pending"
    assert stored.created_at == now


def test_a_call_status_outside_the_vocabulary_is_refused(store: Store) -> None:
    now = datetime.now(UTC)
    row = {"call_id": 1, "state_json": {}, "flags_json": [], "status": "done", "created_at": now, "updated_at": now}

    with pytest.raises(Exception, match="(?i)check"), store.engine.begin() as connection:
        connection.execute(insert(calls).values(row))


def test_a_naive_datetime_is_refused_rather_than_guessed(store: Store) -> None:
    now = datetime.now()
    row = {"call_id": 1, "state_json": {}, "flags_json": [], "status": "pending", "created_at": now, "updated_at": now}

    with pytest.raises(Exception, match="naive datetime"), store.engine.begin() as connection:
        connection.execute(insert(calls).values(row))


def test_ping_answers_when_the_database_is_up(store: Store) -> None:
    store.ping()


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("sqlite:////nonexistent-dir/callbridge.db", "sqlite:////nonexistent-dir/callbridge.db"),
        ("postgresql://callbridge:s3cret@127.0.0.1:1/callbridge", "postgresql+psycopg://callbridge:***@127.0.0.1:1"),
    ],
)
def test_ping_on_an_unreachable_database_names_it_without_its_password(url: str, names: str) -> None:
    store = Store(url)
    try:
        with pytest.raises(StoreUnavailable, match="is unreachable: ") as raised:
            store.ping()
    finally:
        store.dispose()

    assert names in str(raised.value)
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize("url", ["not a url", "mysql://root@localhost/callbridge"])
def test_a_url_that_is_neither_sqlite_nor_postgresql_is_refused_clearly(url: str) -> None:
    with pytest.raises(StoreError, match="DATABASE_URL"):
        Store(url)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_postgresql_urls_use_the_psycopg_3_driver(scheme: str) -> None:
    assert normalise_url(f"{scheme}://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"


def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/pragmas.db")
    try:
        with store.engine.connect() as connection:

            def pragmas(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert (pragmas("journal_mode"), pragmas("foreign_keys")) == ("wal", 1)
            assert int(str(pragmas("busy_timeout"))) >= 1000
    finally:
        store.dispose()
