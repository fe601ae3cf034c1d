from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from insight.domain.index_records import index_record
from insight.domain.matching import PHONE_FIELDS
from insight.lookup.index_reader import READY_CHECK_S, STALE_S, IndexSource
from insight.store.phone_index import PhoneIndex
from insight.store.tables import utcnow
from tests.clocks import FakeClock
from tests.index_kit import build, keeper_for, key, source_for
from tests.stack import Stack, demo_data, running_stack

pytestmark = pytest.mark.anyio


async def _move_phone(stack: Stack, entity: str, record_id: int, mobile: str) -> None:
    fields = {name: None for name in PHONE_FIELDS[entity]}
    answer = await stack.bullhorn_admin.patch(f"/_sandbox/records/{entity}/{record_id}",
                                              json={**fields, "mobile": mobile})
    assert answer.status_code == 200, answer.text


async def _settled(source: IndexSource, e164: str, expected: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """The source's answer once its background check had time to finish (bounded)."""
    answer: list[tuple[str, int, str]] = []
    for _ in range(200):
        answer = key(await source.matches(e164) or ())
        if answer == expected:
            break
        await anyio.sleep(0.01)
    return answer


async def test_a_number_asked_again_is_answered_from_memory_until_the_next_readiness_check(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    entity, record_id = caller.expected[0]
    clock = FakeClock()
    async with running_stack(tmp_path) as stack:
        keeper = keeper_for(stack)
        await build(keeper)
        source = source_for(stack, clock=clock)
        before = key(await source.matches(caller.e164) or ())
        await _move_phone(stack, entity, record_id, "+1 (312) 555-0188")
        assert (await keeper.run_once()).events == 1

        remembered = key(await source.matches(caller.e164) or ())
        clock.advance(STALE_S)
        after = key(await source.matches(caller.e164) or ())

        assert before[0][:2] == (entity, record_id)
        assert remembered == before  # the same generation: no store read
        assert after == []


async def test_an_event_the_keeper_applies_reaches_the_rings_after_one_readiness_check(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "contact")
    entity, record_id = caller.expected[0]
    clock = FakeClock()
    async with running_stack(tmp_path) as stack:
        keeper = keeper_for(stack)
        await build(keeper)
        source = source_for(stack, clock=clock)
        assert key(await source.matches("+13125550188") or ()) == []
        await _move_phone(stack, entity, record_id, "+1 (312) 555-0188")
        await keeper.run_once()

        clock.advance(READY_CHECK_S)  # the check runs in the background; the next answers see its result
        moved = await _settled(source, "+13125550188", [(entity, record_id, "mobile")])
        gone = await _settled(source, caller.e164, [])

        assert moved == [(entity, record_id, "mobile")]
        assert gone == []


async def test_a_rebuilt_index_forgets_what_the_old_one_answered(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    entity, record_id = caller.expected[0]
    clock = FakeClock()
    async with running_stack(tmp_path) as stack:
        keeper = keeper_for(stack)
        await build(keeper)
        source = source_for(stack, clock=clock)
        before = key(await source.matches(caller.e164) or ())
        # gone without an event reaching us: only the re-scan after the subscription expired notices
        del stack.bullhorn.table(entity)[record_id]
        stack.bullhorn.changed(entity, record_id)
        stack.bullhorn.config.subscription_ttl_s = 0
        assert (await keeper.run_once()).rescans == 1
        stack.bullhorn.config.subscription_ttl_s = 3600
        await build(keeper)

        clock.advance(STALE_S)
        after = await source.matches(caller.e164)

        assert before[0][:2] == (entity, record_id)
        assert after == ()


async def test_a_record_callbridge_puts_in_the_index_reaches_another_process_after_one_readiness_check(
        tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_stack(tmp_path) as stack:
        await build(keeper_for(stack))
        other_process = source_for(stack, clock=clock)
        assert key(await other_process.matches("+13125550177") or ()) == []
        entry = index_record("Candidate", {"id": 990_001, "firstName": "Ada", "lastName": "New",
                                           "mobile": "+1 312 555 0177"}, default_region="US")
        assert entry is not None
        PhoneIndex(stack.store.engine).put_records([entry], now=utcnow())

        remembered = key(await other_process.matches("+13125550177") or ())
        clock.advance(READY_CHECK_S)
        found = await _settled(other_process, "+13125550177", [("Candidate", 990_001, "mobile")])

        assert remembered == []  # the same generation until its next check
        assert found == [("Candidate", 990_001, "mobile")]
