from __future__ import annotations

import pytest

from insight.domain.allowance import Allowance


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_granted_then_refused_until_time_refills_it() -> None:
    clock = Clock()
    allowance = Allowance(60, burst=3, clock=clock)

    granted = [allowance.take(1) for _ in range(5)]
    clock.now += 2.0  # 60 a minute: two more
    later = [allowance.take(1) for _ in range(3)]

    assert granted == [True, True, True, False, False]
    assert later == [True, True, False]


def test_a_request_bigger_than_what_is_left_is_refused_and_spends_nothing() -> None:
    clock = Clock()
    allowance = Allowance(60, burst=4, clock=clock)

    assert allowance.take(3) is True
    assert allowance.take(3) is False
    assert allowance.take(1) is True


def test_a_long_idle_time_refills_no_more_than_the_burst() -> None:
    clock = Clock()
    allowance = Allowance(600, burst=2, clock=clock)
    allowance.take(2)
    clock.now += 3600

    assert [allowance.take(1) for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 1), (10, 0), (-1, 5)])
def test_an_allowance_without_a_positive_rate_and_burst_is_refused(per_minute: float, burst: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Allowance(per_minute, burst=burst, clock=Clock())
