from __future__ import annotations

import asyncio
import math
import random
from pathlib import Path

import pytest

from insight.domain.matching import PHONE_FIELDS
from insight.domain.phones import normalize
from insight.lookup.service import LookupService
from insight.store.phone_index import PhoneIndex
from insight.store.tables import utcnow
from insight.upstream.errors import UpstreamUnavailable
from insight.worker.index_keeper import run_index_keeper
from sandbox.faults import ScriptedFault
from tests.index_kit import build, keeper_for, key, searches, source_for
from tests.stack import Stack, demo_data, running_stack

pytestmark = pytest.mark.anyio


def _live(stack: Stack) -> LookupService:
    return LookupService(stack.services.bullhorn, default_region="US", excluded_statuses=("Archive", "Archived"),
                         ttl_s=300, negative_ttl_s=30)


def _record_numbers(count: int) -> list[str]:
    data, rng = demo_data(), random.Random(8)
    values = [record[name] for entity, table in (("Candidate", data.candidates), ("ClientContact", data.contacts))
              for record in table.values() for name in PHONE_FIELDS[entity] if record.get(name)]
    numbers = {normalize(value, "US") for value in rng.sample(values, count)}
    return sorted(number for number in numbers if number)


async def _patch(stack: Stack, path: str, body: dict[str, object] | None = None, method: str = "PATCH") -> None:
    answer = await stack.bullhorn_admin.request(method, f"/_sandbox/records/{path}", json=body)
    assert answer.status_code == 200, answer.text


async def test_the_index_answers_exactly_what_a_live_search_and_verification_answers(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await build(keeper_for(stack))
        index, live = source_for(stack), _live(stack)
        numbers = [caller.e164 for caller in demo_data().callers] + _record_numbers(60)

        found = 0
        for e164 in numbers:
            indexed = await index.matches(e164)
            assert indexed is not None
            assert list(indexed) == list((await live.lookup(e164)).matches), e164
            found += bool(indexed)
        assert found > len(numbers) / 2


async def test_an_updated_phone_moves_the_match_within_one_poll(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    entity, record_id = caller.expected[0]
    async with running_stack(tmp_path) as stack:
        keeper = keeper_for(stack)
        await build(keeper)
        fields = {name: None for name in PHONE_FIELDS[entity]}
        await _patch(stack, f"{entity}/{record_id}", {**fields, "mobile": "+1 (312) 555-0188"})

        run = await keeper.run_once()

        index = source_for(stack)
        assert run.events == 1
        assert await index.matches(caller.e164) == ()
        assert key(await index.matches("+13125550188") or ()) == [(entity, record_id, "mobile")]


async def test_a_deleted_record_stops_matching(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    entity, record_id = caller.expected[0]
    async with running_stack(tmp_path) as stack:
        keeper = keeper_for(stack)
        await build(keeper)
        assert key(await source_for(stack).matches(caller.e164) or ())[0][:2] == (entity, record_id)

        await _patch(stack, f"{entity}/{record_id}", method="DELETE")
        await keeper.run_once()

        assert await source_for(stack).matches(caller.e164) == ()


async def test_an_excluded_status_stops_matching(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "contact")
    entity, record_id = caller.expected[0]
    async with running_stack(tmp_path) as stack:
        keeper = keeper_for(stack)
        await build(keeper)

        await _patch(stack, f"{entity}/{record_id}", {"status": "Archive"})
        await keeper.run_once()

        assert await source_for(stack).matches(caller.e164) == ()


async def test_a_crash_during_the_initial_build_resumes_without_re_reading_finished_pages(tmp_path: Path) -> None:
    candidates = len(demo_data().candidates)
    pages = math.ceil(candidates / 100)
    async with running_stack(tmp_path) as stack:
        first = keeper_for(stack, page_size=100, pages_per_run=3)
        await first.run_once()
        stack.bullhorn.faults.script(ScriptedFault("POST search/Candidate", status=503))
        with pytest.raises(UpstreamUnavailable):
            await first.run_once()  # the process dies here, three pages in

        await build(keeper_for(stack, page_size=100, pages_per_run=3))

        progress = PhoneIndex(stack.store.engine).progress()
        # every page once, plus the one that failed and the count asked when the scan began
        assert searches(stack, "Candidate") == pages + 2
        assert progress["Candidate"].indexed == candidates and progress["Candidate"].done
        assert progress["ClientContact"].indexed == len(demo_data().contacts)


async def test_an_expired_subscription_triggers_a_rescan_that_drops_records_gone_meanwhile(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    entity, record_id = caller.expected[0]
    async with running_stack(tmp_path) as stack:
        keeper = keeper_for(stack, page_size=200, pages_per_run=2)
        await build(keeper)
        before = searches(stack, "Candidate")
        # gone without an event reaching us: only a re-scan can notice
        del stack.bullhorn.table(entity)[record_id]
        stack.bullhorn.changed(entity, record_id)
        stack.bullhorn.config.subscription_ttl_s = 0

        run = await keeper.run_once()
        assert run.rescans == 1 and run.building
        assert source_for(stack).status().ready is False
        stack.bullhorn.config.subscription_ttl_s = 3600
        await build(keeper)

        assert searches(stack, "Candidate") > before
        assert source_for(stack).status().ready is True
        assert source_for(stack).status().scan == 2
        assert await source_for(stack).matches(caller.e164) == ()


async def test_a_second_keeper_stands_by_while_the_first_holds_the_lease(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await keeper_for(stack, owner="worker-1", pages_per_run=1).run_once()

        run = await keeper_for(stack, owner="worker-2").run_once()

        assert run.standby and run.pages == 0


async def test_run_forever_builds_polls_and_hands_the_lease_back_when_stopped(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        stop = asyncio.Event()
        task = asyncio.create_task(run_index_keeper(stack.settings, stack.store, stack.services.bullhorn,
                                                    poll_s=0.01, stop=stop))
        for _ in range(500):
            if source_for(stack).status().ready:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

        assert source_for(stack).status().ready
        assert PhoneIndex(stack.store.engine).take_lease("worker-2", now=utcnow(), lease_s=60)


async def test_the_build_is_ready_only_when_every_entity_is_scanned_and_reports_progress(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        keeper = keeper_for(stack, page_size=100, pages_per_run=2)
        await keeper.run_once()
        partial = source_for(stack).status()
        await build(keeper)
        whole = source_for(stack).status()

        assert partial.ready is False and partial.records_indexed == 200
        assert partial.records_total == len(demo_data().candidates) + len(demo_data().contacts)
        assert partial.eta_s is not None
        assert whole.ready is True and whole.eta_s is None and whole.lag_s is not None
        assert whole.records_indexed == whole.records_total == len(demo_data().candidates) + len(demo_data().contacts)
