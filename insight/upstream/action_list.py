"""Bullhorn's allowed note actions (`settings/commentActionList`), cached for the tags page.

The list changes only when an admin edits it, so five minutes of staleness is harmless; while
Bullhorn is down the last list read keeps answering, and with none read yet the caller learns why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from insight.upstream.errors import UpstreamError

log = logging.getLogger("callbridge.web")

#: admins rarely edit the action list; a tag page five minutes behind it misleads no one
ACTION_LIST_TTL_S = 300.0
#: the tags page must answer even when Bullhorn hangs (its client may wait out several 429s)
ACTION_LIST_TIMEOUT_S = 10.0


class ActionListUnavailable(Exception):
    """No action list has been read and Bullhorn does not answer; the message says why."""


@dataclass(frozen=True)
class ActionList:
    actions: tuple[str, ...]
    #: unix time of the successful read
    read_at: float
    #: True when Bullhorn failed just now and this is the last list read before that
    stale: bool


class ActionListCache:
    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[str]]],
        *,
        ttl_s: float = ACTION_LIST_TTL_S,
        timeout_s: float = ACTION_LIST_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._cached: ActionList | None = None
        # One read at a time: a page load burst must not become a burst of Bullhorn calls.
        self._lock = anyio.Lock()

    async def get(self) -> ActionList:
        async with self._lock:
            cached = self._cached
            if cached is not None and self._clock() - cached.read_at < self._ttl_s:
                return cached
            try:
                with anyio.fail_after(self._timeout_s):
                    actions = tuple(await self._fetch())
            except (UpstreamError, TimeoutError) as error:
                reason = error.explanation if isinstance(error, UpstreamError) else (
                    f"Bullhorn did not answer within {self._timeout_s:g} s"
                )
                if cached is None:
                    raise ActionListUnavailable(f"Bullhorn's commentActionList could not be read: {reason}") from None
                log.warning("commentActionList read failed, answering with the list read earlier: %s", reason)
                return ActionList(actions=cached.actions, read_at=cached.read_at, stale=True)
            self._cached = ActionList(actions=actions, read_at=self._clock(), stale=False)
            return self._cached
