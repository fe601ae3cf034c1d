from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from insight.store import Store, current_revision, head_revision, migrate, upgrade
from insight.store.migrate import downgrade
from insight.store.phone_index import PhoneIndex
from insight.store.tables import metadata
from tests import schema_kit
from tests.intake_kit import record_raw

#: every database here starts empty: these tests are the ones that run the migrations from nothing
pytestmark = pytest.mark.empty_database

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "events", "calls", "attempts", "bullhorn_session", "alembic_version",
    "indexed_records", "phone_index", "index_state", "index_feed", "bullhorn_usage", "backfill_jobs",
    "aircall_webhooks", "conversations", "conversation_messages", "aircall_hold",
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
        assert current_revision(store.engine) == head_revision() == "0013"
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


def test_the_tests_copy_of_the_migrated_template_has_the_schema_a_fresh_upgrade_gives(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    upgrade(store_url)
    if store_url.startswith("sqlite"):
        schema_kit.sqlite_at_head(tmp_path / "copy.db")
        copy_url = f"sqlite:///{tmp_path / 'copy.db'}"
    else:
        admin = make_url(request.getfixturevalue("postgres_url")).set(drivername="postgresql")
        name = f"callbridge_copy_{uuid.uuid4().hex[:12]}"
        schema_kit.create_postgres_at_head(admin.render_as_string(hide_password=False), name)
        copy_url = admin.set(database=name).render_as_string(hide_password=False)

    assert _schema(copy_url) == _schema(store_url)
    assert _schema(copy_url)["revision"] == head_revision()


def _schema(url: str) -> dict[str, Any]:
    store = Store(url)
    try:
        found = inspect(store.engine)
        tables = {table: (
            [(column["name"], str(column["type"]), column["nullable"], str(column.get("default")))
             for column in found.get_columns(table)],
            found.get_pk_constraint(table)["constrained_columns"],
            sorted(str(key) for key in found.get_foreign_keys(table)),
            sorted(str(index) for index in found.get_indexes(table)),
            sorted(str(unique) for unique in found.get_unique_constraints(table)),
        ) for table in found.get_table_names()}
        return {"tables": tables, "revision": current_revision(store.engine)}
    finally:
        store.dispose()


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
