"""The phone index under both readings of each Bullhorn behaviour nobody documents (DESIGN §10).

Each fixture plays one reading per parametrisation; the sandbox's default is the harsher one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from insight.store.phone_index import PhoneIndex
from insight.store.tables import indexed_records
from insight.upstream.errors import UpstreamUnavailable
from sandbox.bullhorn import BullhornSandboxConfig
from sandbox.faults import ScriptedFault
from sandbox.readings import EventRequestId, IdRange, MultiGet, SoftDelete
from tests.index_kit import build, keeper_for, key, source_for
from tests.readings_kit import both_readings
from tests.stack import Stack, demo_data, running_stack

pytestmark = pytest.mark.anyio
EVENTS = "GET event/subscription/callbridge-phone-index"

event_request_id = both_readings("event_request_id")
multi_get = both_readings("multi_get")
soft_delete = both_readings("soft_delete")
id_range = both_readings("id_range")


@asynccontextmanager
async def stack_reading(tmp_path: Path, **reading: Any) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path, bullhorn_config=BullhornSandboxConfig(**reading)) as stack:
        yield stack


async def _patch(stack: Stack, path: str, body: dict[str, object] | None = None, method: str = "PATCH") -> None:
    answer = await stack.bullhorn_admin.request(method, f"/_sandbox/records/{path}", json=body)
    assert answer.status_code == 200, answer.text


def _candidate() -> tuple[str, str, int]:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    entity, record_id = caller.expected[0]
    return caller.e164, entity, record_id


async def test_empty_polls_never_force_a_rescan_even_when_request_id_advances_on_each(
        tmp_path: Path, event_request_id: EventRequestId) -> None:
    e164, entity, record_id = _candidate()
    async with stack_reading(tmp_path, event_request_id=event_request_id) as stack:
        keeper = keeper_for(stack)
        await build(keeper)
        quiet = [await keeper.run_once() for _ in range(3)]
        restarted = keeper_for(stack)  # a new process finds the gaps empty polls left
        await _patch(stack, f"{entity}/{record_id}", {"mobile": "+1 (312) 555-0188"})

        run = await restarted.run_once()

        assert [r.rescans for r in quiet] == [0, 0, 0] and run.rescans == 0 and run.events == 1
        assert (entity, record_id, "mobile") in key(await source_for(stack).matches("+13125550188") or ())
        # nothing failed, so nothing was read again
        assert stack.bullhorn.faults.requests[f"{EVENTS}/lastRequestId"] == 0
        assert await source_for(stack).matches(e164) is not None


@pytest.mark.parametrize("failure", ["crash while applying", "answer lost"])
async def test_a_batch_whose_read_failed_is_read_again_by_request_id_and_applied_once(
        tmp_path: Path, event_request_id: EventRequestId, failure: str) -> None:
    e164, entity, record_id = _candidate()
    async with stack_reading(tmp_path, event_request_id=event_request_id) as stack:
        await build(keeper_for(stack))
        await keeper_for(stack).run_once()  # an empty poll: under every_poll, a requestId that means nothing
        await _patch(stack, f"{entity}/{record_id}", method="DELETE")
        if failure == "crash while applying":
            stack.bullhorn.faults.script(ScriptedFault(f"GET entity/{entity}/*", status=503))
        else:  # Bullhorn purged the batch, the answer never arrived
            stack.bullhorn.faults.script(ScriptedFault(EVENTS, status=504, lost_answer=True))
        with pytest.raises(UpstreamUnavailable):
            await keeper_for(stack).run_once()
        assert PhoneIndex(stack.store.engine).feed().read_pending

        run = await keeper_for(stack).run_once()

        assert run.events == 1 and run.rescans == 0
        assert await source_for(stack).matches(e164) == ()
        assert not PhoneIndex(stack.store.engine).feed().read_pending


async def test_a_batch_changing_more_than_twenty_records_keeps_every_one_of_them(
        tmp_path: Path, multi_get: MultiGet) -> None:
    async with stack_reading(tmp_path, multi_get=multi_get) as stack:
        keeper = keeper_for(stack)
        await build(keeper)
        records_before, _ = PhoneIndex(stack.store.engine).counts()
        changed = sorted(record_id for record_id, record in demo_data().candidates.items()
                         if not record.get("isDeleted"))[:45]
        for record_id in changed:
            await _patch(stack, f"Candidate/{record_id}", {"status": "Interviewing for DESIGN §10"})

        run = await keeper.run_once()

        assert run.events == 45
        assert PhoneIndex(stack.store.engine).counts()[0] == records_before
        # every changed record was read back: one multi-id GET, no id asked again alone
        assert stack.bullhorn.faults.requests["GET entity/Candidate/{id}"] == 1


async def test_a_soft_deleted_person_leaves_the_index_at_once_whichever_event_says_so(
        tmp_path: Path, soft_delete: SoftDelete) -> None:
    e164, entity, record_id = _candidate()
    async with stack_reading(tmp_path, soft_delete=soft_delete) as stack:
        keeper = keeper_for(stack)
        await build(keeper)
        records_before, _ = PhoneIndex(stack.store.engine).counts()
        await _patch(stack, f"{entity}/{record_id}", method="DELETE")

        run = await keeper.run_once()

        assert run.events == 1
        assert await source_for(stack).matches(e164) == ()
        assert PhoneIndex(stack.store.engine).counts()[0] == records_before - 1



def _indexed(stack: Stack) -> set[tuple[str, int]]:
    with stack.store.engine.connect() as connection:
        rows = connection.execute(select(indexed_records.c.entity, indexed_records.c.record_id)).all()
    return {(row.entity, row.record_id) for row in rows}


def _live(stack: Stack) -> set[tuple[str, int]]:
    return {(entity, record_id) for entity in ("Candidate", "ClientContact")
            for record_id, record in stack.bullhorn.table(entity).items() if not record.get("isDeleted")}


async def test_the_scan_indexes_every_record_when_ids_span_digit_lengths(tmp_path: Path, id_range: IdRange) -> None:
    # as text, "10000" < "1001" < "2226": an id-range cursor would skip the long and the short ids
    odd_ids = [7, 999, 10_000, 10_001, 123_456]
    async with stack_reading(tmp_path, id_range=id_range) as stack:
        for n, record_id in enumerate(odd_ids):
            await _patch(stack, f"Candidate/{record_id}", {
                "firstName": "Odd", "lastName": f"Id{n}", "name": f"Odd Id{n}", "status": "Active",
                "mobile": f"(312) 555-{7100 + n}", "dateLastModified": 1_700_000_000_000}, method="PUT")

        await build(keeper_for(stack, page_size=100))

        assert _indexed(stack) == _live(stack)
        status = source_for(stack).status()
        assert status.ready and status.records_indexed == status.records_total
        for n, record_id in enumerate(odd_ids):
            assert key(await source_for(stack).matches(f"+1312555{7100 + n}") or ()) == [
                ("Candidate", record_id, "mobile")]


@pytest.mark.parametrize("deleted", ["records before the anchor", "the anchor itself"])
async def test_records_hard_deleted_under_the_scan_never_make_it_skip_another(
        tmp_path: Path, id_range: IdRange, deleted: str) -> None:
    async with stack_reading(tmp_path, id_range=id_range) as stack:
        keeper = keeper_for(stack, page_size=100, pages_per_run=2)
        await keeper.run_once()  # two pages of candidates walked: the anchor is the 200th
        candidates = stack.bullhorn.table("Candidate")
        walked = sorted(candidates)[:200]
        gone = walked[10:15] if deleted == "records before the anchor" else walked[195:200]
        for record_id in gone:  # hard deletes publish no event the index could catch
            del candidates[record_id]
            stack.bullhorn.changed("Candidate", record_id)

        await build(keeper)

        assert _indexed(stack) == _live(stack) | {("Candidate", record_id) for record_id in gone
                                                 if not demo_data().candidates[record_id].get("isDeleted")}


async def test_refused_event_subscriptions_turn_the_index_off_saying_why_and_lookups_go_live(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    e164, entity, record_id = _candidate()
    async with stack_reading(tmp_path, event_subscriptions_allowed=False) as stack:
        keeper = keeper_for(stack)
        run = await keeper.run_once()
        again = await keeper.run_once()  # within the hour: Bullhorn is not asked again

        status = source_for(stack).status()
        summary = (await stack.web.get("/api/summary", headers=stack.api_headers)).json()
        lookup = await stack.services.lookup.lookup(e164)

    assert run.off and again.off and run.pages == 0
    assert stack.bullhorn.faults.requests["PUT event/subscription/callbridge-phone-index"] == 1
    assert status.ready is False and status.off_reason is not None and "event subscription" in status.off_reason
    assert summary["index"]["off_reason"] == status.off_reason
    assert lookup.source == "bullhorn" and [(m.entity, m.id) for m in lookup.matches][:1] == [(entity, record_id)]
    assert any("phone index off" in record.getMessage() for record in caplog.records)


async def test_an_index_that_was_off_builds_once_the_right_is_granted(tmp_path: Path) -> None:
    now = [datetime(2026, 12, 3, 10, 0, tzinfo=UTC)]
    async with stack_reading(tmp_path, event_subscriptions_allowed=False) as stack:
        keeper = keeper_for(stack, now=lambda: now[0])
        assert (await keeper.run_once()).off
        stack.bullhorn.config.event_subscriptions_allowed = True
        now[0] += timedelta(hours=1)

        await build(keeper)

        status = source_for(stack, now=lambda: now[0]).status()
        assert status.ready and status.off_reason is None
