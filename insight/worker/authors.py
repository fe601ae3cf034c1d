"""Who authors a call's note: the agent's Bullhorn CorporateUser, else the default user (DESIGN §4).

Agents are matched by e-mail with the rule of `insight.domain.authors`, over a cached copy of
Bullhorn's live user directory (`insight.upstream.bullhorn.users`), refreshed every `ttl_s`.

The fallback author is `BULLHORN_DEFAULT_USER_ID`, else the API user itself. Bullhorn offers no
"who am I" call, so the API user is found in the same directory by its `username`
(`BULLHORN_USERNAME`); if even that fails, the note is sent without `commentingPerson`, which
Bullhorn then fills with the API user.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from insight.domain.authors import UserDirectory
from insight.upstream.bullhorn.users import UserQuery, read_user_directory

#: users change rarely; a new recruiter's notes fall back to the default author for at most this long
DIRECTORY_TTL_S = 600.0


@dataclass(frozen=True)
class Author:
    #: the CorporateUser id for `commentingPerson`; None leaves it to Bullhorn (the API user)
    user_id: int | None
    #: the agent did not map to a Bullhorn user (or there was no agent)
    fallback: bool


@dataclass(frozen=True)
class _Directory:
    users: UserDirectory
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
        self._api_username = api_username
        self._default_user_id = default_user_id
        self._ttl_s = ttl_s
        self._clock = clock
        self._directory: _Directory | None = None
        self._lock = asyncio.Lock()

    async def author_for(self, agent_email: str | None) -> Author:
        """The author of a note for a call made or answered by `agent_email` (None: nobody answered)."""
        users = (await self._current()).users
        user_id = users.user_for_email(agent_email)
        if user_id is not None:
            return Author(user_id, fallback=False)
        if self._default_user_id is not None:
            return Author(self._default_user_id, fallback=True)
        return Author(users.user_for_username(self._api_username), fallback=True)

    async def _current(self) -> _Directory:
        directory = self._directory
        if directory is not None and self._clock() - directory.loaded_at < self._ttl_s:
            return directory
        async with self._lock:
            directory = self._directory
            if directory is None or self._clock() - directory.loaded_at >= self._ttl_s:
                directory = self._directory = _Directory(await read_user_directory(self._bullhorn), self._clock())
            return directory
