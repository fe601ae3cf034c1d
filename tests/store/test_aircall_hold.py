from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest

from insight.store import Store
from insight.store.aircall_hold import StoreAircallHold
from insight.upstream.aircall import AircallClient
from insight.upstream.errors import UpstreamUnavailable
from insight.upstream.retry import WaitBudget
from sandbox.aircall import AircallSandbox, AircallSandboxConfig, create_aircall_app
from sandbox.readings import ResetUnit
from tests.clocks import FakeClock
from tests.readings_kit import both_readings

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0
CARD = [{"type": "title", "text": "Ada Lovelace"}]
reset_unit = both_readings("reset_unit")


class Sleeps:
    """Moves the shared fake clock on by each wait, so no test really sleeps."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.clock.now += seconds


class Company:
    """One Aircall company (the fake), and processes that talk to it, each with its own store connection."""

    def __init__(self, tmp_path: Path, unit: ResetUnit, clock: FakeClock, stack: AsyncExitStack) -> None:
        self.url = f"sqlite:///{tmp_path / 'callbridge.db'}"
        self.clock = clock
        self.stack = stack
        self.app = create_aircall_app(AircallSandboxConfig(requests_per_minute=3, clock=clock, reset_unit=unit))
        self.fake: AircallSandbox = self.app.state.sandbox
        for call_id in range(1, 10):
            self.fake.calls[call_id] = {"id": call_id}
        #: (process, time, status) of every request Aircall answered
        self.sent: list[tuple[str, float, int]] = []

    async def process(self, name: str, *, waits: int = 3) -> AircallClient:
        store = Store(self.url)
        store.migrate()
        self.stack.callback(store.dispose)

        async def record(response: httpx.Response) -> None:
            self.sent.append((name, self.clock.now, response.status_code))

        http = await self.stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), event_hooks={"response": [record]}))
        client = AircallClient(http, api_id="demo-api-id", api_token="demo-api-token", base_url="http://aircall.test",
                               sleep=Sleeps(self.clock), clock=self.clock, shared=StoreAircallHold(store.engine),
                               shared_read_s=0.01, rate_limit=WaitBudget(max_waits=waits, max_total_s=60))
        self.stack.push_async_callback(client.aclose)
        return client


@asynccontextmanager
async def company(tmp_path: Path, unit: ResetUnit) -> AsyncIterator[Company]:
    async with AsyncExitStack() as stack:
        yield Company(tmp_path, unit, FakeClock(NOW), stack)


async def test_a_429_seen_by_one_process_holds_another_process_until_the_reset(
        tmp_path: Path, reset_unit: ResetUnit) -> None:
    async with company(tmp_path, reset_unit) as aircall:
        web, worker = await aircall.process("web", waits=0), await aircall.process("worker")
        # another integration spent the company's quota 20 s ago: the window resets at NOW + 40
        aircall.fake.window.started_at, aircall.fake.window.used = NOW - 20, 3
        with pytest.raises(UpstreamUnavailable):
            await web.push_insight_card(1, CARD)

        await worker.push_insight_card(2, CARD)

    assert aircall.sent == [("web", NOW, 429), ("worker", NOW + 40, 201)]


async def test_a_process_already_sending_is_held_by_anothers_429_within_a_read_interval(
        tmp_path: Path, reset_unit: ResetUnit) -> None:
    async with company(tmp_path, reset_unit) as aircall:
        web, worker = await aircall.process("web"), await aircall.process("worker", waits=0)
        await web.push_insight_card(1, CARD)
        aircall.fake.window.started_at, aircall.fake.window.used = NOW - 20, 3
        with pytest.raises(UpstreamUnavailable):
            await worker.get_call(2)
        await anyio.sleep(0.1)  # a few of web's shared-hold reads (every 0.01 s here, every second by default)

        await web.push_insight_card(3, CARD)

    assert aircall.sent == [("web", NOW, 201), ("worker", NOW, 429), ("web", NOW + 40, 201)]


async def test_a_hold_is_never_shortened_by_a_process_that_saw_an_earlier_reset(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'callbridge.db'}")
    store.migrate()
    try:
        hold = StoreAircallHold(store.engine)
        before = await hold.resume_at()
        await hold.hold_until(NOW + 40)
        await hold.hold_until(NOW + 10)

        assert before is None
        assert await hold.resume_at() == NOW + 40
    finally:
        store.dispose()
