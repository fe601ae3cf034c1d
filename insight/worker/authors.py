"""Who authors a call's note: the agent's Bullhorn CorporateUser, else the default user (DESIGN §4).

Agents are matched by e-mail, ignoring case, among enabled users that are not deleted (a disabled
user is also `isDeleted=true`, and an old disabled twin often shares the e-mail). Whether Bullhorn's
`where email=…` compares case-insensitively depends on the tenant's database collation, so rather
than one query per agent the live user directory is read (`query/CorporateUser where
isDeleted=false`, a few hundred rows at most) and matched here; it is cached for `ttl_s`.

The fallback author is `BULLHORN_DEFAULT_USER_ID`, else the API user itself. Bullhorn offers no
"who am I" call, so the API user is found in the same directory by its `username`
(`BULLHORN_USERNAME`); if even that fails, the note is sent without `commentingPerson`, which
Bullhorn then fills with the API user.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

#: users change rarely; a new recruiter's notes fall back to the default author for at most this long
DIRECTORY_TTL_S = 600.0
_PAGE = 500
_FIELDS = "id,email,username,enabled,isDeleted"


class UserQuery(Protocol):
    async def query(self, entity: str, where: str, *, fields: str, count: int = 20, start: int = 0,
                    order_by: str | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Author:
    #: the CorporateUser id for `commentingPerson`; None leaves it to Bullhorn (the API user)
    user_id: int | None
    #: the agent did not map to a Bullhorn user (or there was no agent)
    fallback: bool


@dataclass(frozen=True)
class _Directory:
    by_email: Mapping[str, int]
    by_username: Mapping[str, int]
    loaded_at: float


class AuthorDirectory:
    """Agent e-mail -> CorporateUser id, from a cached copy of Bullhorn's live user directory."""

    def __init__(
        self,
        bullhorn: UserQuery,
        *,
        api_username: str,
        default_user_id: int | None,
        ttl_s: float = DIRECTORY_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bullhorn = bullhorn
        self._api_username = api_username.casefold()
        self._default_user_id = default_user_id
        self._ttl_s = ttl_s
        self._clock = clock
        self._directory: _Directory | None = None
        self._lock = asyncio.Lock()

    async def author_for(self, agent_email: str | None) -> Author:
        """The author of a note for a call made or answered by `agent_email` (None: nobody answered)."""
        directory = await self._current()
        if agent_email:
            user_id = directory.by_email.get(agent_email.strip().casefold())
            if user_id is not None:
                return Author(user_id, fallback=False)
        if self._default_user_id is not None:
            return Author(self._default_user_id, fallback=True)
        return Author(directory.by_username.get(self._api_username), fallback=True)

    async def _current(self) -> _Directory:
        directory = self._directory
        if directory is not None and self._clock() - directory.loaded_at < self._ttl_s:
            return directory
        async with self._lock:
            directory = self._directory
            if directory is None or self._clock() - directory.loaded_at >= self._ttl_s:
                directory = self._directory = await self._load()
            return directory

    async def _load(self) -> _Directory:
        users: list[Mapping[str, Any]] = []
        start = 0
        while True:
            answer = await self._bullhorn.query("CorporateUser", "isDeleted=false", fields=_FIELDS, count=_PAGE,
                                                start=start, order_by="id")
            page = [user for user in answer.get("data") or [] if isinstance(user, Mapping)]
            users.extend(page)
            if len(page) < _PAGE:
                break
            start += _PAGE
        by_email: dict[str, int] = {}
        by_username: dict[str, int] = {}
        # ordered by id, so when two live users share an e-mail the older account wins, every time
        for user in sorted(users, key=lambda user: _id(user) or 0):
            user_id = _id(user)
            if user_id is None or user.get("isDeleted") is True or user.get("enabled") is False:
                continue
            if isinstance(user.get("email"), str) and user["email"].strip():
                by_email.setdefault(user["email"].strip().casefold(), user_id)
            if isinstance(user.get("username"), str) and user["username"]:
                by_username.setdefault(user["username"].casefold(), user_id)
        return _Directory(by_email, by_username, self._clock())


def _id(user: Mapping[str, Any]) -> int | None:
    value = user.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
