from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from insight.store import Store
from scripts import pg_tmp, redis_tmp
from tests import schema_kit


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session: $CALLBRIDGE_TEST_POSTGRES_URL, or one started by pg_tmp."""
    existing = os.environ.get("CALLBRIDGE_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    if pg_tmp.find_binaries() is None:
        pytest.skip(
            "PostgreSQL binaries (initdb, pg_ctl, createdb) not found; set PG_BIN or CALLBRIDGE_TEST_POSTGRES_URL"
        )
    server = pg_tmp.start()
    try:
        yield server.url
    finally:
        pg_tmp.stop(server.directory)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server for the session: $CALLBRIDGE_TEST_REDIS_URL, or one started by redis_tmp."""
    existing = os.environ.get("CALLBRIDGE_TEST_REDIS_URL")
    if existing:
        yield existing
        return
    if redis_tmp.find_binary() is None:
        pytest.skip("redis-server not found (`make test` installs it); set REDIS_SERVER or CALLBRIDGE_TEST_REDIS_URL")
    server = redis_tmp.start()
    try:
        yield server.url
    finally:
        redis_tmp.stop(server.directory)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own for one test: a SQLite file, or a fresh database on the test server.

    It has the schema at head (a copy of a template migrated once per process, tests/schema_kit.py),
    or none at all for a test marked `empty_database`.
    """
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        database = tmp_path_factory.mktemp("store") / "callbridge.db"
        if not empty:
            schema_kit.sqlite_at_head(database)
        yield f"sqlite:///{database}"
        return
    server = make_url(request.getfixturevalue("postgres_url")).set(drivername="postgresql")
    name = f"callbridge_{uuid.uuid4().hex[:12]}"
    admin = server.render_as_string(hide_password=False)
    if empty:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        schema_kit.create_postgres_at_head(admin, name)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def store_factory(store_url: str) -> Iterator[Callable[[], Store]]:
    """Builds Stores on the test database (as separate processes would), migrated; disposes them all."""
    built: list[Store] = []

    def build() -> Store:
        store = Store(store_url)
        built.append(store)
        store.migrate()
        return store

    yield build
    for store in built:
        store.dispose()


@pytest.fixture
def store(store_factory: Callable[[], Store]) -> Store:
    return store_factory()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that run their own processes go first: the fault suite, then the browser tests (each module's
    tests in their order). With `-n 2` the first pytest worker starts with them while the other takes the
    in-process tests, instead of one worker finishing alone on a minute-long test at the end."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("faults") else 1 if item.get_closest_marker("e2e") else 2)
