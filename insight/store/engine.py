"""Engines for SQLite (the default) and PostgreSQL, configured the same way by every process."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

#: how long a SQLite writer waits for another one before "database is locked"
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: an unreachable PostgreSQL host must fail a start-up or /readyz quickly, not after the OS default
POSTGRES_CONNECT_TIMEOUT_S = 5
#: execution option asking a SQLite transaction to take the write lock at BEGIN (see `write_connection`)
SQLITE_IMMEDIATE = "callbridge_sqlite_immediate"


class StoreError(RuntimeError):
    """The store cannot be used as configured (bad URL, unknown dialect)."""


class StoreUnavailable(StoreError):
    """The database did not answer; the message names it (without its password) and the cause."""


def normalise_url(database_url: str) -> URL:
    """Parse `database_url`; a bare `postgresql://` (or `postgres://`) gets the psycopg 3 driver."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise StoreError("DATABASE_URL is not a database URL (expected sqlite:///PATH or postgresql://…)") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"DATABASE_URL must be sqlite:// or postgresql://, got {url.drivername}://")
    return url


def safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).resolve()


def make_engine(database_url: str) -> Engine:
    url = normalise_url(database_url)
    if url.get_backend_name() == "postgresql":
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
        )
    engine = create_engine(url)
    _configure_sqlite(engine, in_memory=sqlite_path(url) is None)
    return engine


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions may read then write without a SQLite lock-upgrade deadlock.

    On SQLite a deferred transaction that reads and then writes fails at once with "database is
    locked" when another writer got in between (busy_timeout does not apply to that upgrade), so
    such transactions take the write lock at BEGIN. PostgreSQL needs nothing special.
    """
    connection = engine.connect()
    if is_sqlite(engine):
        connection.execution_options(**{SQLITE_IMMEDIATE: True})
    return connection


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    # pysqlite opens transactions on its own and never before a SELECT; taking that over (the
    # SQLAlchemy "serializable isolation / savepoints" recipe) makes BEGIN explicit and lets a
    # transaction ask for IMMEDIATE.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not in_memory:
                _enable_wal(cursor)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _enable_wal(cursor: Any) -> None:
    # WAL lets readers (the web) carry on while the worker writes. Switching to it is not covered
    # by busy_timeout, and on a new database another process may be switching at the same
    # moment: retry for as long as a writer would wait.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
