"""Where the one Bullhorn session of a deployment is kept, so every process shares it.

Bullhorn caps concurrent sessions and spends a refresh token on first use, so a session is
stored once and refreshed by one process at a time: `lock()` is held across the whole
refresh-or-login, and the new tokens are saved before they are used.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class BullhornSession:
    rest_token: str
    #: the restUrl answered by /login: carries the corp token and ends with a slash
    rest_url: str
    refresh_token: str | None = None
    #: where OpenWindow record links start (loginInfo's atsUrl)
    ats_url: str | None = None
    #: loginInfo's oauthUrl, kept so a refresh needs no second discovery
    oauth_url: str | None = None
    #: epoch seconds after which Bullhorn is expected to answer 401 (None: unknown)
    expires_at: float | None = None
    #: bumped on every save; lets a process see that another one already refreshed
    version: int = 0


class SessionVault(Protocol):
    async def load(self) -> BullhornSession | None: ...

    async def save(self, session: BullhornSession) -> BullhornSession:
        """Store the session and answer it with its new version."""
        ...

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Held by one process at a time, across every process sharing the vault."""
        ...


class MemoryVault:
    """A vault for one process (tests, the bench): the lock is an asyncio.Lock."""

    def __init__(self, session: BullhornSession | None = None) -> None:
        self._session = session
        self._lock = asyncio.Lock()

    async def load(self) -> BullhornSession | None:
        return self._session

    async def save(self, session: BullhornSession) -> BullhornSession:
        version = (self._session.version if self._session else 0) + 1
        self._session = BullhornSession(**{**session.__dict__, "version": version})
        return self._session

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        async with self._lock:
            yield

    def lock(self) -> AbstractAsyncContextManager[None]:
        return self._locked()
