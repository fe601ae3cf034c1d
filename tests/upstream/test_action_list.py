from __future__ import annotations

import anyio
import pytest

from insight.upstream.action_list import ActionListCache, ActionListUnavailable
from insight.upstream.errors import UpstreamUnavailable
from tests.clocks import FakeClock

pytestmark = pytest.mark.anyio


class FlakyBullhorn:
    """Answers the action list until told to fail; counts the reads."""

    def __init__(self) -> None:
        self.reads = 0
        self.down = False
        self.actions = ["Sourcing Call", "BD Call"]

    async def comment_actions(self) -> list[str]:
        self.reads += 1
        if self.down:
            raise UpstreamUnavailable("Bullhorn answered 503: service unavailable", status_code=503)
        return list(self.actions)


async def test_the_action_list_is_read_once_per_ttl() -> None:
    bullhorn, clock = FlakyBullhorn(), FakeClock()
    cache = ActionListCache(bullhorn.comment_actions, ttl_s=300, clock=clock)

    first = await cache.get()
    clock.now += 299
    bullhorn.actions.append("Prescreen")
    second = await cache.get()
    clock.now += 2
    third = await cache.get()

    assert first.actions == second.actions == ("Sourcing Call", "BD Call")
    assert third.actions[-1] == "Prescreen" and bullhorn.reads == 2


async def test_while_bullhorn_is_down_the_last_list_read_answers_marked_stale() -> None:
    bullhorn, clock = FlakyBullhorn(), FakeClock()
    cache = ActionListCache(bullhorn.comment_actions, ttl_s=300, clock=clock)
    await cache.get()
    bullhorn.down = True
    clock.now += 600

    answer = await cache.get()

    assert answer.actions == ("Sourcing Call", "BD Call") and answer.stale and answer.read_at == 1_000.0


async def test_with_no_list_read_yet_a_down_bullhorn_is_explained() -> None:
    bullhorn = FlakyBullhorn()
    bullhorn.down = True

    with pytest.raises(ActionListUnavailable, match="commentActionList could not be read: Bullhorn answered 503"):
        await ActionListCache(bullhorn.comment_actions).get()


async def test_a_hanging_bullhorn_is_given_up_on_after_the_timeout() -> None:
    async def hang() -> list[str]:
        await anyio.sleep(10)
        return []

    with pytest.raises(ActionListUnavailable, match="did not answer within 0.05 s"):
        await ActionListCache(hang, timeout_s=0.05).get()
