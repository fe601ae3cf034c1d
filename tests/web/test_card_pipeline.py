"""The Insight Card records the best match's pipeline with the call, for the note's job link (DESIGN §13, §15)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from insight.store.tables import utcnow
from sandbox.bullhorn_pipeline import job_order, submission
from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.people import AGENTS, LINES
from tests.stack import WEBHOOK_TOKEN, Stack, demo_data, running_stack
from tests.worker_kit import caller, row

pytestmark = pytest.mark.anyio


def _candidate() -> tuple[str, int]:
    found = next(known for known in demo_data().callers if known.kind == "candidate" and len(known.expected) == 1
                 and known.expected[0][0] == "Candidate")
    return found.raw_digits, found.expected[0][1]


def _only_submission(stack: Stack, candidate_id: int, status: str | None) -> int:
    """The candidate's pipeline replaced by one submission in `status` (none: empty); the job's id."""
    data = stack.bullhorn.data
    for table in (data.submissions, data.placements):
        for key in [key for key, found in table.items() if found["candidate"]["id"] == candidate_id]:
            del table[key]
    job = job_order(64_000, "Ward Manager", next(iter(data.companies.values())), contact_id=0, owner_id=100,
                    is_open=True, status="Accepting Candidates", date_added=int(time.time() * 1000))
    if status is not None:
        data.job_orders[job["id"]] = job
        data.submissions[74_000] = submission(74_000, candidate_id, job, status=status,
                                              date_added=int(time.time() * 1000))
    return int(job["id"])


async def _ring(stack: Stack, call_id: int, raw_digits: str) -> None:
    call = CallScript(call_id=call_id, kind=CallKind.INBOUND_ANSWERED, agent=AGENTS[0], line=LINES[0],
                      raw_digits=raw_digits, started_at=int(time.time()), talk_s=60)
    for scheduled in lifecycle(call, token=WEBHOOK_TOKEN):
        if scheduled.envelope["event"] == "call.created":
            assert (await stack.deliver(scheduled.envelope)).status_code == 200
    await stack.settle()


def _recorded(stack: Stack, call_id: int) -> Any:
    return row(stack, call_id)["match_json"].get("pipeline")


async def test_the_card_records_its_candidates_pipeline_with_the_call_once_its_refresh_brought_it(
    tmp_path: Path,
) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        job_id = _only_submission(stack, candidate_id, "Interview Scheduled")
        await _ring(stack, 8201, raw)
        recorded = _recorded(stack, 8201)

    assert recorded["entity"] == "Candidate" and recorded["id"] == candidate_id
    assert recorded["count"] == 1 and recorded["items"][0]["job_id"] == job_id
    assert recorded["items"][0]["status"] == "Interview Scheduled"
    # at most the context cache's TTL before now: the cache does not say when it read
    read_at = datetime.fromisoformat(recorded["read_at"])
    assert utcnow() - timedelta(seconds=stack.settings.cache_ttl_s + 60) <= read_at <= utcnow()


async def test_a_ring_whose_pipeline_the_context_had_already_records_it_with_the_first_card(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        job_id = _only_submission(stack, candidate_id, "Submitted")
        await _ring(stack, 8211, raw)
        await _ring(stack, 8212, raw)
        recorded = _recorded(stack, 8212)

    assert len(stack.cards_for(8212)) == 1  # complete at once: no refresh
    assert recorded["id"] == candidate_id and recorded["items"][0]["job_id"] == job_id


async def test_a_refresh_that_leaves_the_card_as_it_was_still_records_the_pipeline_it_read(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        _only_submission(stack, candidate_id, None)
        await _ring(stack, 8221, raw)
        recorded = _recorded(stack, 8221)
        stored = row(stack, 8221)

    assert len(stack.cards_for(8221)) == 1
    assert recorded["items"] == [] and recorded["count"] == 0
    assert stored["card_status"] == "pushed" and stored["card_pushed_at"] is not None


async def test_a_contacts_card_records_no_pipeline(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await _ring(stack, 8231, caller("contact").raw_digits)
        stored = row(stack, 8231)

    assert stored["match_json"]["matches"] and "pipeline" not in stored["match_json"]
