"""Which webhook tokens `POST /webhooks/aircall` accepts: `AIRCALL_WEBHOOK_TOKEN`, plus the tokens of the
webhooks callbridge registered itself (kept in the store by the setup fixes).

The stored tokens are cached: a token no cached one matches makes the store be read again, at most
once per `refresh_s`, so another process's new webhook is accepted within seconds while a flood of
forged tokens costs one small read per `refresh_s`, not one per request.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence

import anyio
import anyio.to_thread

from shared.settings import Secret

REFRESH_S = 5.0


def token_is_valid(presented: object, expected: Sequence[Secret]) -> bool:
    if not isinstance(presented, str) or not presented:
        return False
    # compare against every token (no early exit) so timing says nothing about which one matched
    matched = False
    for token in expected:
        matched |= hmac.compare_digest(presented.encode(), token.get().encode())
    return matched


class AcceptedTokens:
    def __init__(self, configured: Sequence[Secret], read_stored: Callable[[], list[str]], *,
                 refresh_s: float = REFRESH_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._configured = tuple(token for token in configured if token)
        self._read_stored = read_stored
        self._refresh_s = refresh_s
        self._clock = clock
        self._stored: tuple[Secret, ...] = ()
        self._read_at: float | None = None
        self._lock = anyio.Lock()

    async def accepts(self, presented: object) -> bool:
        if token_is_valid(presented, (*self._configured, *self._stored)):
            return True
        if not isinstance(presented, str) or not presented:
            return False
        async with self._lock:
            if self._read_at is None or self._clock() - self._read_at >= self._refresh_s:
                stored = await anyio.to_thread.run_sync(self._read_stored)
                self._stored = tuple(Secret(token) for token in stored if token)
                self._read_at = self._clock()
        return token_is_valid(presented, (*self._configured, *self._stored))
