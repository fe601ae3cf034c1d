"""`Store`: one per process, built from DATABASE_URL; the typed entry point to every table."""

from __future__ import annotations

from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DBAPIError

from insight.store import events
from insight.store.engine import StoreUnavailable, make_engine, safe_url
from insight.store.events import StoredEvent
from insight.store.migrate import migrate
from insight.store.tables import SESSION_ROW_ID, bullhorn_session, calls


class Store:
    """Blocking calls, each in its own short transaction; async code runs them in a worker thread."""

    def __init__(self, database_url: str) -> None:
        self.engine: Engine = make_engine(database_url)

    def __repr__(self) -> str:
        return f"Store({safe_url(self.engine.url)!r})"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        migrate(self.engine)

    def ping(self) -> None:
        """Raise `StoreUnavailable` naming the database and the cause unless it answers a query and commits a write.

        The write (a no-op update of the session row) is what finds a read-only database or a full disk:
        both still answer reads, while every webhook would be refused.
        """
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError as error:
            raise StoreUnavailable(f"database {safe_url(self.engine.url)} is unreachable: {_cause(error)}") from error
        try:
            with self.engine.begin() as connection:
                row = bullhorn_session.c.id == SESSION_ROW_ID
                connection.execute(update(bullhorn_session).where(row).values(id=bullhorn_session.c.id))
        except DBAPIError as error:
            raise StoreUnavailable(f"database {safe_url(self.engine.url)} refuses writes: {_cause(error)}") from error

    def dispose(self) -> None:
        self.engine.dispose()

    def events_for_call(self, call_id: int) -> list[StoredEvent]:
        return events.events_for_call(self.engine, call_id)

    def call_raw_digits(self, call_id: int) -> tuple[bool, str | None]:
        """(known, raw_digits) of a call."""
        with self.engine.connect() as connection:
            row = connection.execute(select(calls.c.raw_digits).where(calls.c.call_id == call_id)).first()
        return (False, None) if row is None else (True, row.raw_digits)


def _cause(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)
