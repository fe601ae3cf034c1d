"""Backfill against the Aircall and Bullhorn sandboxes: what the webhooks missed is taken in, once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import URL

from insight.backfill.periodic import run_periodic_once
from insight.backfill.runner import Progress, run_job, run_window
from insight.domain.backfill import MAX_LIST_ITEMS, OVERLAP_S, Window
from insight.store import backfill as rows
from sandbox.aircall_calls import list_calls
from sandbox.calls import call_at, final_call
from tests.stack import Stack, running_stack
from tests.worker_kit import STARTED_AT, caller, ended_s, notes_of, play, row, script

pytestmark = pytest.mark.anyio

NOW = datetime.fromtimestamp(STARTED_AT + 3_600, UTC)


def _clock() -> datetime:
    return NOW


async def _backfill(stack: Stack) -> rows.Job:
    return await run_periodic_once(stack.services.aircall, stack.store.engine, lookback_s=7_200, clock=_clock)


async def test_calls_the_webhooks_missed_are_taken_in_and_each_written_once(tmp_path: Path) -> None:
    delivered = script(7001, caller("candidate").raw_digits)
    never_delivered = script(7002, caller("contact").raw_digits)
    cut_short = script(7003, caller("candidate").raw_digits)
    async with running_stack(tmp_path) as stack:
        for call in (delivered, never_delivered, cut_short):
            stack.aircall.calls[call.call_id] = final_call(call)
        await play(stack, delivered)
        await play(stack, cut_short, until_s=ended_s(cut_short) - 1)

        job = await _backfill(stack)
        await (await stack.worker()).run_once()

        assert (job.status, job.seen, job.taken_in, job.known) == ("done", 3, 2, 1)
        assert [len(notes_of(stack, call_id)) for call_id in (7001, 7002, 7003)] == [1, 1, 1]
        assert [row(stack, call_id)["status"] for call_id in (7001, 7002, 7003)] == ["synced"] * 3
        listed = (await stack.web.get("/api/calls/7002", headers=stack.api_headers)).json()
        assert listed["source"] == "backfill"
        assert (await stack.web.get("/api/calls/7001", headers=stack.api_headers)).json()["source"] == "webhook"


async def test_a_backfilled_call_whose_webhooks_arrive_later_keeps_its_one_note(tmp_path: Path) -> None:
    call = script(7011, caller("candidate").raw_digits)
    async with running_stack(tmp_path) as stack:
        stack.aircall.calls[call.call_id] = final_call(call)
        await _backfill(stack)
        worker = await stack.worker()
        await worker.run_once()
        note_id = row(stack, 7011)["note_id"]

        await play(stack, call)
        await worker.run_once()

        assert len(notes_of(stack, 7011)) == 1
        assert row(stack, 7011)["note_id"] == note_id and row(stack, 7011)["status"] == "synced"


async def test_a_second_run_over_the_same_calls_takes_nothing_in_again(tmp_path: Path) -> None:
    call = script(7021, caller("contact").raw_digits)
    async with running_stack(tmp_path) as stack:
        stack.aircall.calls[call.call_id] = final_call(call)
        first = await _backfill(stack)
        again = await run_job(stack.services.aircall, stack.store.engine, rows.start_job(
            stack.store.engine, kind=rows.ON_DEMAND, window_from=first.window_from, window_to=first.window_to))
        await (await stack.worker()).run_once()

        assert (first.taken_in, again.seen, again.taken_in, again.known) == (1, 1, 0, 1)
        assert len(notes_of(stack, 7021)) == 1


async def test_a_call_still_running_is_left_for_a_later_run_and_holds_the_watermark(tmp_path: Path) -> None:
    live = script(7031, caller("candidate").raw_digits)
    async with running_stack(tmp_path) as stack:
        stack.aircall.calls[live.call_id] = call_at(live, 20)
        job = await _backfill(stack)

        assert (job.seen, job.taken_in) == (1, 0)
        assert job.watermark == STARTED_AT
        assert rows.last_watermark(stack.store.engine) == STARTED_AT
        stack.aircall.calls[live.call_id] = final_call(live)
        later = await run_periodic_once(stack.services.aircall, stack.store.engine, lookback_s=7_200,
                                        clock=lambda: datetime.fromtimestamp(STARTED_AT + 7_200, UTC))
        assert later.window_from == datetime.fromtimestamp(STARTED_AT - OVERLAP_S, UTC)
        assert later.taken_in == 1


async def test_aircall_refusing_the_list_fails_the_run_with_the_reason_in_plain_words(tmp_path: Path) -> None:
    async with running_stack(tmp_path, AIRCALL_API_TOKEN="revoked") as stack:
        job = await _backfill(stack)

    assert job.status == "failed"
    assert job.detail is not None and job.detail.startswith("Aircall's call list could not be read")


class CappedAircall:
    """Aircall's list over many calls: at most 10,000 per query, however it is paged."""

    def __init__(self, calls: list[dict[str, Any]]) -> None:
        self.calls = calls
        self.queries: set[tuple[int, int]] = set()

    async def list_calls(self, *, start: int, end: int, page: int = 1,
                         per_page: int = 50) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        self.queries.add((start, end))
        url = URL(f"http://aircall.test/v1/calls?from={start}&to={end}&page={page}&per_page={per_page}")
        body = list_calls(self.calls, url)
        return body["calls"], body["meta"]


async def test_a_window_over_aircalls_ten_thousand_cap_is_split_so_no_call_is_lost(tmp_path: Path) -> None:
    # still running, so nothing is stored: this measures the listing alone
    calls = [{"id": 100_000 + i, "started_at": STARTED_AT + i} for i in range(MAX_LIST_ITEMS + 50)]
    aircall = CappedAircall(calls)
    async with running_stack(tmp_path) as stack:
        progress = await run_window(aircall, stack.store.engine, Window(STARTED_AT, STARTED_AT + len(calls)),
                                    progress=Progress())

    assert progress.seen == len(calls)
    assert len(aircall.queries) == 3  # the whole window (too full), then its two halves
