from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from insight.lookup.service import LookupService
from sandbox.bullhorn import BullhornSandboxConfig
from tests.clocks import FakeClock
from tests.stack import Stack, demo_data, running_stack

pytestmark = pytest.mark.anyio


class DictCache:
    """A Redis stand-in with the two calls the lookup uses (the real tier is Redis)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.expiries: dict[str, int] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str, *, ex: int) -> bool:
        self.values[key] = value
        self.expiries[key] = ex
        return True


def _service(stack: Stack, clock: FakeClock, shared: DictCache | None = None) -> LookupService:
    return LookupService(
        stack.services.bullhorn,
        default_region="US",
        excluded_statuses=("Archive", "Archived"),
        ttl_s=300,
        negative_ttl_s=30,
        shared=shared,
        clock=clock,
    )


def _caller(kind: str) -> Any:
    return next(caller for caller in demo_data().callers if caller.kind == kind)


async def test_both_entities_are_searched_and_the_verified_matches_come_back_ranked(tmp_path: Path) -> None:
    caller = _caller("candidate_and_contact")
    async with running_stack(tmp_path) as stack:
        found = await _service(stack, FakeClock()).lookup(caller.e164)

        assert [(match.entity, match.id) for match in found.matches] == list(caller.expected)
        assert found.cached is False
        assert stack.searches() == 2


@pytest.mark.parametrize("kind", ["deleted_only", "archived_only", "placeholder_only", "same_digits_us"])
async def test_deleted_archived_and_lookalike_records_never_match(tmp_path: Path, kind: str) -> None:
    caller = _caller(kind)
    async with running_stack(tmp_path) as stack:
        found = await _service(stack, FakeClock()).lookup(caller.e164)

        assert [(match.entity, match.id) for match in found.matches] == list(caller.expected)


async def test_concurrent_lookups_of_one_number_search_bullhorn_once(tmp_path: Path) -> None:
    caller = _caller("candidate")
    async with running_stack(tmp_path, bullhorn_config=BullhornSandboxConfig(latency_ms=20)) as stack:
        service = _service(stack, FakeClock())

        results = await asyncio.gather(*(service.lookup(caller.e164) for _ in range(10)))

        assert {result.matches for result in results} == {results[0].matches}
        assert stack.searches() == 2


async def test_a_match_is_cached_for_the_positive_ttl_then_looked_up_again(tmp_path: Path) -> None:
    caller = _caller("candidate")
    clock = FakeClock()
    async with running_stack(tmp_path) as stack:
        service = _service(stack, clock)
        await service.lookup(caller.e164)

        clock.now += 299
        assert (await service.lookup(caller.e164)).cached is True
        clock.now += 2
        assert (await service.lookup(caller.e164)).cached is False
        assert stack.searches() == 4


async def test_no_match_is_cached_only_for_the_negative_ttl(tmp_path: Path) -> None:
    caller = _caller("unknown")
    clock = FakeClock()
    async with running_stack(tmp_path) as stack:
        service = _service(stack, clock)
        assert (await service.lookup(caller.e164)).matches == ()

        clock.now += 29
        assert (await service.lookup(caller.e164)).cached is True
        clock.now += 2
        assert (await service.lookup(caller.e164)).cached is False


async def test_forget_makes_the_next_lookup_ask_bullhorn(tmp_path: Path) -> None:
    caller = _caller("candidate")
    async with running_stack(tmp_path) as stack:
        service = _service(stack, FakeClock())
        await service.lookup(caller.e164)

        service.forget(caller.e164)

        assert (await service.lookup(caller.e164)).cached is False


async def test_a_second_replica_reads_the_match_from_the_shared_tier(tmp_path: Path) -> None:
    caller = _caller("candidate")
    shared = DictCache()
    async with running_stack(tmp_path) as stack:
        first = _service(stack, FakeClock(), shared)
        second = _service(stack, FakeClock(), shared)

        original = await first.lookup(caller.e164)
        replica = await second.lookup(caller.e164)

        assert replica.matches == original.matches
        assert replica.cached is True
        assert stack.searches() == 2
        assert set(shared.expiries.values()) == {300}


async def test_a_broken_shared_tier_never_fails_the_lookup(tmp_path: Path) -> None:
    class Broken(DictCache):
        async def get(self, key: str) -> str | None:
            raise ConnectionError("redis is down")

    caller = _caller("candidate")
    async with running_stack(tmp_path) as stack:
        found = await _service(stack, FakeClock(), Broken()).lookup(caller.e164)

        assert found.matches
