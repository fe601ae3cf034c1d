"""Bounded in-request waiting for rate limits, shared by the Bullhorn and Aircall clients.

Only the short waits an upstream asks for (429, an exhausted quota) happen inside a request; longer
back-off belongs to the worker's retry schedule, so a budget turns a long wait into an error.
"""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Sleep = Callable[[float], Awaitable[object]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class WaitBudget:
    """How long one request may wait for an upstream's rate limit before giving up."""

    #: waits allowed per request
    max_waits: int = 5
    #: total seconds one request may spend waiting
    max_total_s: float = 30.0
    #: floor of every wait (Bullhorn: "Wait 1 second then retry request")
    min_wait_s: float = 1.0

    def next_wait(self, *, waits_so_far: int, waited_s: float, asked_s: float | None) -> float | None:
        """Seconds to wait before the next try, or None when the budget does not allow it."""
        wait_s = max(self.min_wait_s, asked_s or 0.0)
        if waits_so_far >= self.max_waits or waited_s + wait_s > self.max_total_s:
            return None
        return wait_s


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds asked by a `Retry-After` header (delta seconds or an HTTP date), None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
