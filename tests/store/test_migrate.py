from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from insight.store import Store, current_revision, head_revision, migrate, upgrade
from insight.store.migrate import downgrade
from insight.store.phone_index import PhoneIndex
from insight.store.tables import metadata
from tests.intake_kit import record_raw

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "events", "calls", "attempts", "bullhorn_session", "alembic_version",
    "indexed_records", "phone_index", "index_state", "index_feed", "bullhorn_usage", "backfill_jobs",
    "aircall_webhooks",
}


def _tables(url: str) -> set[str]:
    store = Store(url)
    try:
        return set(inspect(store.engine).get_table_names())
    finally:
        store.dispose()


def test_upgrade_creates_every_table_and_stamps_the_head_revision(store_url: str) -> None:
    upgrade(store_url)

    assert _tables(store_url) == TABLES
    store = Store(store_url)
    try:
        assert current_revision(store.engine) == head_revision() == "0012"
    finally:
        store.dispose()


def test_upgrade_twice_changes_nothing_the_second_time(store_url: str) -> None:
    upgrade(store_url)
    store = Store(store_url)
    try:
        record_raw(store, dedupe_key="call.created:1:1", call_id=1, event="call.created", timestamp=1, payload="{}")
        migrate(store.engine)
        assert len(store.events_for_call(1)) == 1
        assert current_revision(store.engine) == head_revision()
    finally:
        store.dispose()


def test_the_migrated_schema_matches_the_tables_the_code_uses(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)

    assert differences == []


def test_downgrade_to_base_drops_everything_and_upgrade_restores_it(store: Store, store_url: str) -> None:
    downgrade(store.engine, "base")
    assert _tables(store_url) <= {"alembic_version"}

    migrate(store.engine)
    assert _tables(store_url) == TABLES


def test_concurrent_upgrades_in_threads_all_succeed_and_leave_one_schema(store_url: str) -> None:
    runners = 4
    start = threading.Barrier(runners)

    def run(_: int) -> None:
        start.wait()
        upgrade(store_url)

    with ThreadPoolExecutor(runners) as pool:
        list(pool.map(run, range(runners)))

    assert _tables(store_url) == TABLES


def test_concurrent_upgrades_in_two_processes_both_succeed_and_leave_one_schema(store_url: str) -> None:
    command = [sys.executable, "-m", "insight.store", "upgrade", "--url", store_url]
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outcomes = [(process.wait(timeout=30), process.stderr.read() if process.stderr else b"") for process in processes]
    for process in processes:
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()

    assert [code for code, _ in outcomes] == [0, 0], [err.decode() for _, err in outcomes]
    assert _tables(store_url) == TABLES


def test_current_command_exits_non_zero_until_the_database_is_upgraded(store_url: str) -> None:
    def current() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "insight.store", "current", "--url", store_url]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)

    before = current()
    upgrade(store_url)
    after = current()

    assert before.returncode == 1 and f"revision none (head: {head_revision()})" in before.stdout
    assert after.returncode == 0 and f"revision {head_revision()} (head: {head_revision()})" in after.stdout


def test_an_index_built_before_national_keys_is_kept_and_re_scanned_after_the_upgrade(store: Store) -> None:
    downgrade(store.engine, "0008")
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE index_feed SET subscription_id = 'callbridge-phone-index', scan = 3"))
        connection.execute(text("INSERT INTO phone_index (entity, record_id, field, e164, is_primary) "
                                "VALUES ('Candidate', 7, 'phone', '+14155550123', true)"))

    migrate(store.engine)

    index = PhoneIndex(store.engine)
    feed = index.feed()
    # no subscription: the keeper's next round subscribes afresh and scans again (scan 4), filling `national`
    assert (feed.subscription_id, feed.scan) == (None, 3)
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT e164, national FROM phone_index")).all() == [("+14155550123", None)]


def test_a_downgrade_drops_the_rows_only_a_national_key_finds(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("INSERT INTO phone_index (entity, record_id, field, e164, is_primary, national) VALUES "
                                "('Candidate', 7, 'phone', '+14155550123', true, NULL), "
                                "('Candidate', 8, 'phone', NULL, true, '02079460958')"))

    downgrade(store.engine, "0008")

    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT record_id, e164 FROM phone_index")).all() == [(7, "+14155550123")]
