from __future__ import annotations

import random

from insight.domain.retry_policy import GiveUp, RetryLater, RetryPolicy


def test_delays_are_full_jitter_under_an_exponential_ceiling_capped_at_the_maximum() -> None:
    policy = RetryPolicy(max_attempts=8, base_delay_s=2.0, max_delay_s=60.0, min_delay_s=0.5, rng=random.Random(1))

    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (20, 60.0)]:
        delays = [policy.delay_s(attempt) for _ in range(200)]
        assert all(0.5 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling * 0.8 and min(delays) < ceiling * 0.3 + 0.5


def test_a_delay_is_never_shorter_than_retry_after() -> None:
    policy = RetryPolicy(max_attempts=8, base_delay_s=1.0, rng=random.Random(2))

    assert all(policy.delay_s(1, retry_after_s=120.0) >= 120.0 for _ in range(50))


def test_the_call_is_given_up_at_the_maximum_number_of_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)

    assert isinstance(policy.next_step(2), RetryLater)
    assert policy.next_step(3) == GiveUp(3)
