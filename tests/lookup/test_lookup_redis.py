"""The shared lookup tier against a real Redis (scripts/redis_tmp.py), as replicas use it."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import redis

from insight.lookup.service import SHARED_KEY_PREFIX, SHARED_PAUSE_S, LookupService, SharedCache
from insight.lookup.shared_cache import SOCKET_TIMEOUT_S, open_redis_cache
from scripts import redis_tmp
from tests.clocks import FakeClock
from tests.stack import Stack, demo_data, running_stack

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[redis.Redis]:
    """The session's Redis, emptied for this test (as arq's tests flush theirs)."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def _caller(kind: str) -> Any:
    return next(caller for caller in demo_data().callers if caller.kind == kind)


async def _replica(stack: Stack, exits: AsyncExitStack, url: str, **options: Any) -> LookupService:
    """One web replica's lookup: its own local tiers, the shared Redis tier built as the app builds it."""
    shared = await exits.enter_async_context(open_redis_cache(url))
    settings: dict[str, Any] = {"ttl_s": 300, "negative_ttl_s": 30, **options}
    return LookupService(
        stack.services.bullhorn, default_region="US", excluded_statuses=("Archive",), shared=shared, **settings
    )


async def test_a_second_replica_answers_from_redis_without_searching_bullhorn(
    tmp_path: Path, redis_db: redis.Redis, redis_url: str
) -> None:
    caller = _caller("candidate")
    async with running_stack(tmp_path) as stack, AsyncExitStack() as exits:
        first = await _replica(stack, exits, redis_url)
        second = await _replica(stack, exits, redis_url)

        original = await first.lookup(caller.e164)
        searches = stack.searches()
        replica = await second.lookup(caller.e164)

        assert original.matches and original.cached is False
        assert replica.matches == original.matches
        assert replica.cached is True
        assert stack.searches() == searches


async def test_keys_are_namespaced_json_with_the_positive_and_negative_ttls(
    tmp_path: Path, redis_db: redis.Redis, redis_url: str
) -> None:
    found, unknown = _caller("candidate"), _caller("unknown")
    async with running_stack(tmp_path) as stack, AsyncExitStack() as exits:
        service = await _replica(stack, exits, redis_url)
        await service.lookup(found.e164)
        await service.lookup(unknown.e164)

    keys = sorted(key.decode() for key in redis_db.scan_iter())
    assert keys == sorted([SHARED_KEY_PREFIX + found.e164, SHARED_KEY_PREFIX + unknown.e164])
    for key in keys:
        value = redis_db.get(key)
        assert isinstance(value, bytes)
        document = json.loads(value)
        assert set(document) == {"matches", "looked_up_at"}
    assert json.loads(redis_db.get(SHARED_KEY_PREFIX + unknown.e164) or b"")["matches"] == []
    assert 290 < redis_db.ttl(SHARED_KEY_PREFIX + found.e164) <= 300
    assert 20 < redis_db.ttl(SHARED_KEY_PREFIX + unknown.e164) <= 30


async def test_a_no_match_expires_from_redis_after_the_negative_ttl(
    tmp_path: Path, redis_db: redis.Redis, redis_url: str
) -> None:
    unknown = _caller("unknown")
    async with running_stack(tmp_path) as stack, AsyncExitStack() as exits:
        await (await _replica(stack, exits, redis_url, negative_ttl_s=1)).lookup(unknown.e164)
        assert redis_db.exists(SHARED_KEY_PREFIX + unknown.e164)

        time.sleep(1.1)
        later = await _replica(stack, exits, redis_url, negative_ttl_s=1)
        again = await later.lookup(unknown.e164)

        assert not again.cached
        # the first replica's live lookup, then the later one's
        assert stack.searches() == 4


async def test_a_redis_entry_of_another_match_shape_is_logged_by_field_and_searched_again(
    tmp_path: Path, redis_db: redis.Redis, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caller = _caller("candidate")
    async with running_stack(tmp_path) as stack, AsyncExitStack() as exits:
        await (await _replica(stack, exits, redis_url)).lookup(caller.e164)
        key = SHARED_KEY_PREFIX + caller.e164
        document = json.loads(redis_db.get(key) or b"")
        document["matches"] = [{**match, "owner": {"id": 7}} for match in document["matches"]]
        redis_db.set(key, json.dumps(document), ex=300)

        searches = stack.searches()
        later = await _replica(stack, exits, redis_url)
        again = await later.lookup(caller.e164)

        assert again.matches and not again.cached and stack.searches() == searches + 2
        assert "field 'owner' is {'id': 7}, not str or null" in caplog.text


async def test_a_redis_that_goes_away_mid_run_never_fails_a_lookup(tmp_path: Path) -> None:
    first_caller, second_caller = _caller("candidate"), _caller("candidate_and_contact")
    server = redis_tmp.start()
    try:
        async with running_stack(tmp_path) as stack, AsyncExitStack() as exits:
            service = await _replica(stack, exits, server.url)
            await service.lookup(first_caller.e164)

            redis_tmp.stop(server.directory)
            started = time.perf_counter()
            found = await service.lookup(second_caller.e164)
            elapsed_s = time.perf_counter() - started

            assert [(match.entity, match.id) for match in found.matches] == list(second_caller.expected)
            assert elapsed_s < 1.0
            assert stack.searches() == 4
    finally:
        redis_tmp.stop(server.directory)


async def test_a_hung_redis_costs_one_timeout_then_is_skipped_for_a_while(tmp_path: Path) -> None:
    callers = [caller for caller in demo_data().callers if caller.kind in ("candidate", "contact", "unknown")][:3]
    clock = FakeClock()
    server = redis_tmp.start()
    paused = redis_tmp.pid(server.directory)
    assert paused is not None
    try:
        async with running_stack(tmp_path) as stack, AsyncExitStack() as exits:
            shared = Counting(await exits.enter_async_context(open_redis_cache(server.url)))
            service = LookupService(stack.services.bullhorn, default_region="US", excluded_statuses=("Archive",),
                                    ttl_s=300, negative_ttl_s=30, shared=shared, clock=clock)
            await service.lookup(callers[0].e164)
            os.kill(paused, signal.SIGSTOP)

            started = time.perf_counter()
            await service.lookup(callers[1].e164)
            first_s = time.perf_counter() - started
            # one socket timeout (the read), then the tier is off: no write, and nothing on the next lookup
            assert SOCKET_TIMEOUT_S <= first_s < SOCKET_TIMEOUT_S + 1.0
            assert shared.calls == ["get", "set", "get"]
            await service.lookup(callers[2].e164)
            assert shared.calls == ["get", "set", "get"]

            os.kill(paused, signal.SIGCONT)
            clock.now += SHARED_PAUSE_S
            service.forget(callers[0].e164)
            assert (await service.lookup(callers[0].e164)).cached is True
    finally:
        redis_tmp.stop(server.directory)


class Counting:
    """The real Redis tier, recording which calls reach it."""

    def __init__(self, inner: SharedCache) -> None:
        self.inner = inner
        self.calls: list[str] = []

    async def get(self, key: str) -> bytes | str | None:
        self.calls.append("get")
        return await self.inner.get(key)

    async def set(self, key: str, value: str, *, ex: int) -> object:
        self.calls.append("set")
        return await self.inner.set(key, value, ex=ex)


async def test_the_app_built_with_redis_url_shares_lookups_between_replicas(
    tmp_path: Path, redis_db: redis.Redis, redis_url: str
) -> None:
    caller = _caller("candidate")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with running_stack(tmp_path / "a", REDIS_URL=redis_url) as first:
        answer = await first.web.get("/api/insight", params={"phone": caller.e164}, headers=first.api_headers)
        assert answer.status_code == 200 and answer.json()["cached"] is False
    async with running_stack(tmp_path / "b", REDIS_URL=redis_url) as second:
        replica = await second.web.get("/api/insight", params={"phone": caller.e164}, headers=second.api_headers)

        assert replica.status_code == 200
        assert replica.json()["matches"] == answer.json()["matches"]
        assert replica.json()["cached"] is True
        assert second.searches() == 0
