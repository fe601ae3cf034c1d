from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from insight.lookup.service import LookupService
from insight.store.tables import utcnow
from tests.clocks import FakeClock
from tests.index_kit import build, keeper_for, source_for
from tests.stack import Stack, demo_data, running_stack

pytestmark = pytest.mark.anyio


def _lookup(stack: Stack, clock: FakeClock, **index_options: object) -> LookupService:
    return LookupService(stack.services.bullhorn, default_region="US", excluded_statuses=("Archive", "Archived"),
                         ttl_s=300, negative_ttl_s=30, index=source_for(stack, **index_options), clock=clock)


async def test_lookups_with_a_ready_index_make_no_bullhorn_request(tmp_path: Path) -> None:
    callers = [caller for caller in demo_data().callers if caller.expected]
    async with running_stack(tmp_path) as stack:
        await build(keeper_for(stack))
        service = _lookup(stack, FakeClock())
        before = stack.searches()

        found = [await service.lookup(caller.e164) for caller in callers]

        assert stack.searches() == before
        assert {lookup.source for lookup in found} == {"index"}
        assert [[(m.entity, m.id) for m in lookup.matches] for lookup in found] == [
            list(caller.expected) for caller in callers]


async def test_an_unknown_number_is_confirmed_live_once_per_negative_ttl(tmp_path: Path) -> None:
    unknown = next(caller for caller in demo_data().callers if caller.kind == "unknown")
    clock = FakeClock()
    async with running_stack(tmp_path) as stack:
        await build(keeper_for(stack))
        service = _lookup(stack, clock)
        before = stack.searches()

        answers = [await service.lookup(unknown.e164) for _ in range(3)]
        clock.now += 31
        again = await service.lookup(unknown.e164)

        assert [lookup.matches for lookup in answers] == [(), (), ()]
        assert [lookup.source for lookup in answers] == ["bullhorn", "cache", "cache"]
        assert again.source == "bullhorn"
        assert stack.searches() - before == 2 * 2  # two confirmations, each searching both entities


async def test_lookups_search_bullhorn_live_until_the_index_is_built(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    async with running_stack(tmp_path) as stack:
        await keeper_for(stack, page_size=100, pages_per_run=1).run_once()
        service = _lookup(stack, FakeClock())

        found = await service.lookup(caller.e164)

        assert found.source == "bullhorn"
        assert [(m.entity, m.id) for m in found.matches] == list(caller.expected)


async def test_an_index_the_worker_stopped_refreshing_is_not_trusted(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    async with running_stack(tmp_path) as stack:
        await build(keeper_for(stack))
        service = _lookup(stack, FakeClock(), max_lag_s=600, now=lambda: utcnow() + timedelta(seconds=601))

        found = await service.lookup(caller.e164)

        assert found.source == "bullhorn"


async def test_metrics_show_the_index_build_and_its_lag(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await build(keeper_for(stack))

        text = (await stack.web.get("/metrics")).text

        assert "callbridge_index_ready 1.0" in text
        records = len(demo_data().candidates) + len(demo_data().contacts)
        assert f"callbridge_index_records {float(records)}" in text
        assert "callbridge_index_lag_seconds" in text
