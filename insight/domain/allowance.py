"""A request allowance: a token bucket that says yes or no at once and never waits."""

from __future__ import annotations

from collections.abc import Callable


class Allowance:
    """`per_minute` requests a minute on average, at most `burst` at once; `take` never waits: it says no.

    For work that is worth doing only now (a card's context during the ring): beyond its share it is
    skipped, not queued.
    """

    def __init__(self, per_minute: float, *, burst: float, clock: Callable[[], float]) -> None:
        if per_minute <= 0 or burst <= 0:
            raise ValueError("an allowance needs a positive rate and burst")
        self._rate_s = per_minute / 60.0
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._at = clock()

    def take(self, requests: float) -> bool:
        """Spend `requests` if the allowance holds them now."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate_s)
        self._at = now
        if self._tokens < requests:
            return False
        self._tokens -= requests
        return True
