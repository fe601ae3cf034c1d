"""Schema migrations, applied at start by `web` and `worker` alike; safe when both start at once.

PostgreSQL serialises runners with a transaction-scoped advisory lock; SQLite with an exclusive
`flock` on a file beside the database. Whoever comes second finds the schema at head and does
nothing. Alembic is configured here in code, so no alembic.ini is needed at run time.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, select

from insight.store.engine import is_sqlite, make_engine, sqlite_path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: pg_advisory lock key of schema upgrades (any constant no other lock of this database uses)
MIGRATION_LOCK_KEY = 0x63_62_5F_6D_69_67  # "cb_mig"

# Alembic's `context` and `op` are module-level proxies, so two upgrades may never overlap in
# one process whatever the database says.
_process_lock = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema of `engine`'s database to the newest revision (no-op when it is there)."""
    if current_revision(engine) == head_revision():
        return
    with _process_lock, _sqlite_file_lock(engine), engine.begin() as connection:
        if not is_sqlite(connection):
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        command.upgrade(alembic_config(connection), "head")


def downgrade(engine: Engine, revision: str) -> None:
    with _process_lock, _sqlite_file_lock(engine), engine.begin() as connection:
        if not is_sqlite(connection):
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        command.downgrade(alembic_config(connection), revision)


def upgrade(database_url: str) -> None:
    """`migrate` for a URL: what a process runs at start before it builds its Store."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def _sqlite_file_lock(engine: Engine) -> AbstractContextManager[None]:
    return _flock(sqlite_path(engine.url)) if is_sqlite(engine) else nullcontext()


@contextmanager
def _flock(database: Path | None) -> Iterator[None]:
    if database is None:
        yield
        return
    # flock (not lockf): it excludes two threads of one process as well as two processes.
    with open(database.with_name(database.name + "-migrate.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
