"""`Store`: one per process, built from DATABASE_URL; the typed entry point to every table."""

from __future__ import annotations

from sqlalchemy import Engine, text, update
from sqlalchemy.exc import DBAPIError

from insight.store import events
from insight.store import intake as intake_module
from insight.store.engine import StoreUnavailable, make_engine, safe_url
from insight.store.events import StoredEvent
from insight.store.intake import CallIntake, RecordedEvent
from insight.store.migrate import migrate
from insight.store.tables import SESSION_ROW_ID, bullhorn_session


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

    def record_event(
        self,
        *,
        dedupe_key: str,
        call_id: int,
        event: str,
        event_timestamp: int,
        payload: str,
        intake: CallIntake,
        claim_card: bool,
    ) -> RecordedEvent:
        return intake_module.record_event(
            self.engine,
            dedupe_key=dedupe_key,
            call_id=call_id,
            event=event,
            event_timestamp=event_timestamp,
            payload=payload,
            intake=intake,
            claim_card=claim_card,
        )

    def call_raw_digits(self, call_id: int) -> tuple[bool, str | None]:
        return intake_module.call_raw_digits(self.engine, call_id)


def _cause(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)
