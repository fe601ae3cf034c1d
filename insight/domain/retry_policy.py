"""When a call whose sync failed for a passing reason is tried again, and when it is given up.

Policy as data (python-arq's `max_tries` and `defer`): the worker asks `next_step(attempts, ...)`
and records what it says. Delays grow exponentially with full jitter (a random delay between zero
and the exponential ceiling, so calls failed by one outage do not come back in one wave), never
shorter than what the upstream asked with Retry-After.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryLater:
    delay_s: float


@dataclass(frozen=True)
class GiveUp:
    attempts: int


@dataclass(frozen=True)
class RetryPolicy:
    #: attempts (the failed one included) after which the call is `dead` (`CALLBRIDGE_MAX_ATTEMPTS`)
    max_attempts: int
    #: ceiling of the first delay; the n-th retry's ceiling is base * 2**(n-1)
    base_delay_s: float = 5.0
    #: no retry waits longer than this (Retry-After aside): a fixed Bullhorn must catch up in minutes
    max_delay_s: float = 900.0
    #: floor of a jittered delay, so a zero draw does not retry in a tight loop
    min_delay_s: float = 1.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def ceiling_s(self, attempt: int) -> float:
        return min(self.max_delay_s, self.base_delay_s * float(2 ** max(0, attempt - 1)))

    def delay_s(self, attempt: int, *, retry_after_s: float | None = None) -> float:
        """Seconds before try `attempt + 1`, after `attempt` failed ones (attempt counts from 1)."""
        jittered = max(self.min_delay_s, self.rng.uniform(0.0, self.ceiling_s(attempt)))
        return max(jittered, retry_after_s or 0.0)

    def next_step(self, attempt: int, *, retry_after_s: float | None = None) -> RetryLater | GiveUp:
        if attempt >= self.max_attempts:
            return GiveUp(attempt)
        return RetryLater(self.delay_s(attempt, retry_after_s=retry_after_s))
