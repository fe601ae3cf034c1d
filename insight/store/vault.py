"""`StoreVault`: the Bullhorn session kept in the `bullhorn_session` row, shared by every process.

The session's tokens are sealed at rest (`insight.store.sealing`); a row written before sealing is
read once and sealed in place, and a row no configured key opens counts as no session (log in again).

The refresh lock is a PostgreSQL advisory lock held on a connection of its own (released by the
server if the holder dies), or on SQLite a lease written into the row, which a crashed holder
cannot keep past `lease_s`. Both are polled with a short async sleep so a waiter stays cancellable.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import Connection, func, insert, or_, select, update
from sqlalchemy.dialects import sqlite

from insight.domain.session import BullhornSession
from insight.store.core import Store
from insight.store.engine import is_sqlite
from insight.store.sealing import TokenSealer, Unsealable, is_sealed
from insight.store.tables import SESSION_ROW_ID, bullhorn_session, utcnow
from shared.settings import Settings

#: pg_advisory lock key of the session refresh (distinct from the migration lock)
SESSION_LOCK_KEY = 0x63_62_5F_73_65_73  # "cb_ses"
#: a login takes a few seconds; a holder still refreshing after a minute has hung or died
DEFAULT_LEASE_S = 60.0
DEFAULT_POLL_S = 0.05

_ROW = bullhorn_session.c.id == SESSION_ROW_ID
_TOKENS = ("rest_token", "refresh_token")

log = logging.getLogger("callbridge.vault")


class StoreVault:
    def __init__(self, store: Store, sealer: TokenSealer, *, lease_s: float = DEFAULT_LEASE_S,
                 poll_s: float = DEFAULT_POLL_S) -> None:
        self._store = store
        self._sealer = sealer
        self._lease = timedelta(seconds=lease_s)
        self._poll_s = poll_s

    @classmethod
    def for_settings(cls, store: Store, settings: Settings) -> StoreVault:
        """The deployment's vault: tokens sealed under the signing key (and opened by the previous one too)."""
        return cls(store, TokenSealer(settings.signing_keys))

    async def load(self) -> BullhornSession | None:
        return await anyio.to_thread.run_sync(self._load)

    async def save(self, session: BullhornSession) -> BullhornSession:
        return await anyio.to_thread.run_sync(self._save, session)

    def lock(self) -> AbstractAsyncContextManager[None]:
        return self._sqlite_lease() if is_sqlite(self._store.engine) else self._advisory_lock()

    def _load(self) -> BullhornSession | None:
        with self._store.engine.connect() as connection:
            row = connection.execute(select(bullhorn_session).where(_ROW)).one_or_none()
        if row is None or row.rest_token is None or row.rest_url is None:
            return None
        try:
            tokens = {name: self._sealer.open(getattr(row, name)) for name in _TOKENS}
        except Unsealable as problem:
            log.warning("the stored Bullhorn session is unreadable (%s); logging in again", problem)
            return None
        if not all(is_sealed(getattr(row, name)) for name in _TOKENS if getattr(row, name) is not None):
            self._seal_in_place(row.version, tokens)
        rest_token = tokens["rest_token"]
        assert rest_token is not None
        return BullhornSession(
            rest_token=rest_token,
            rest_url=row.rest_url,
            refresh_token=tokens["refresh_token"],
            ats_url=row.ats_url,
            oauth_url=row.oauth_url,
            expires_at=row.expires_at.timestamp() if row.expires_at else None,
            version=row.version,
        )

    def _seal_in_place(self, version: int, tokens: dict[str, str | None]) -> None:
        """A row from before sealing: seal its tokens, unless another process saved a newer session meanwhile."""
        sealed = {name: self._sealer.seal(value) for name, value in tokens.items()}
        with self._store.engine.begin() as connection:
            connection.execute(update(bullhorn_session).where(_ROW, bullhorn_session.c.version == version)
                               .values(**sealed))

    def _save(self, session: BullhornSession) -> BullhornSession:
        values: dict[str, Any] = {
            "rest_token": self._sealer.seal(session.rest_token),
            "rest_url": session.rest_url,
            "refresh_token": self._sealer.seal(session.refresh_token),
            "ats_url": session.ats_url,
            "oauth_url": session.oauth_url,
            "expires_at": datetime.fromtimestamp(session.expires_at, UTC) if session.expires_at is not None else None,
            "updated_at": utcnow(),
        }
        bump = update(bullhorn_session).where(_ROW).values(version=bullhorn_session.c.version + 1, **values)
        with self._store.engine.begin() as connection:
            version = connection.execute(bump.returning(bullhorn_session.c.version)).scalar_one_or_none()
            if version is None:
                version = 1
                connection.execute(insert(bullhorn_session).values(id=SESSION_ROW_ID, version=version, **values))
        return replace(session, version=version)

    @asynccontextmanager
    async def _advisory_lock(self) -> AsyncIterator[None]:
        connection = await anyio.to_thread.run_sync(self._store.engine.connect)
        try:
            while not await anyio.to_thread.run_sync(_try_advisory_lock, connection):
                await anyio.sleep(self._poll_s)
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(_advisory_unlock, connection)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(connection.close)

    @asynccontextmanager
    async def _sqlite_lease(self) -> AsyncIterator[None]:
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        while not await anyio.to_thread.run_sync(self._take_lease, owner):
            await anyio.sleep(self._poll_s)
        try:
            yield
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._drop_lease, owner)

    def _take_lease(self, owner: str) -> bool:
        now = utcnow()
        free = or_(bullhorn_session.c.lock_owner.is_(None), bullhorn_session.c.lock_until < now)
        take = update(bullhorn_session).where(_ROW, free).values(lock_owner=owner, lock_until=now + self._lease)
        with self._store.engine.begin() as connection:
            if connection.execute(take).rowcount == 1:
                return True
            if connection.execute(select(bullhorn_session.c.id).where(_ROW)).first() is None:
                row = sqlite.insert(bullhorn_session).values(id=SESSION_ROW_ID, version=0)
                connection.execute(row.on_conflict_do_nothing())
        return False

    def _drop_lease(self, owner: str) -> None:
        # Only our own lease: if it expired and someone else holds the lock now, it is theirs.
        drop = (
            update(bullhorn_session)
            .where(_ROW, bullhorn_session.c.lock_owner == owner)
            .values(lock_owner=None, lock_until=None)
        )
        with self._store.engine.begin() as connection:
            connection.execute(drop)


def _try_advisory_lock(connection: Connection) -> bool:
    acquired = bool(connection.execute(select(func.pg_try_advisory_lock(SESSION_LOCK_KEY))).scalar_one())
    # A session-level lock outlives the transaction; ending it keeps the connection from idling in one.
    connection.commit()
    return acquired


def _advisory_unlock(connection: Connection) -> None:
    try:
        connection.rollback()
        connection.execute(select(func.pg_advisory_unlock(SESSION_LOCK_KEY)))
        connection.commit()
    except Exception:
        # Dropping the connection is what releases the lock if unlocking itself failed.
        connection.invalidate()
        raise
