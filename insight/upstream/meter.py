"""Counting every Bullhorn request by purpose, at the transport (DESIGN §10 "Bullhorn API budget").

The purpose comes from the caller's context (`metered(Purpose.note)` around a sync, the index
keeper's task, a lookup), so a client shared by several callers needs no per-caller copy; requests
on the session's own HTTP client (loginInfo, OAuth, login) always count as `session`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import httpx

from insight.domain.budget import Purpose, month_of

_purpose: ContextVar[Purpose] = ContextVar("bullhorn_purpose", default=Purpose.other)


@contextmanager
def metered(purpose: Purpose) -> Iterator[None]:
    """Bullhorn requests sent inside this block (and tasks started from it) count as `purpose`."""
    token = _purpose.set(purpose)
    try:
        yield
    finally:
        _purpose.reset(token)


def current_purpose() -> Purpose:
    return _purpose.get()


class RequestMeter:
    """Counts not yet written to the store, by (month, purpose); the store keeps the totals."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._pending: Counter[tuple[str, str]] = Counter()
        # the intake writer's thread and the loop may both touch it
        self._lock = threading.Lock()

    def count(self, purpose: Purpose) -> None:
        with self._lock:
            self._pending[(month_of(self._clock()), str(purpose))] += 1

    def take(self) -> dict[tuple[str, str], int]:
        """The counts since the last `take` (they are the caller's to store now)."""
        with self._lock:
            taken, self._pending = dict(self._pending), Counter()
        return taken

    def give_back(self, counts: dict[tuple[str, str], int]) -> None:
        """Counts a failed store write could not keep: counted again at the next flush."""
        with self._lock:
            self._pending.update(counts)


class MeteredTransport(httpx.AsyncBaseTransport):
    """Counts each request it sends, then hands it to `inner` (the real transport or a test fake)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, meter: RequestMeter, *, purpose: Purpose | None = None) -> None:
        self._inner = inner
        self._meter = meter
        self._purpose = purpose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._meter.count(self._purpose or current_purpose())
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
