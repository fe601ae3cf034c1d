"""A call's note linked to the candidate's one active job (DESIGN §13, CALLBRIDGE_LINK_JOB), against the sandbox."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.bullhorn import BullhornSandboxConfig
from sandbox.bullhorn_pipeline import job_order, placement, submission
from tests.stack import Stack, demo_data, running_stack
from tests.worker_kit import caller, notes_of, play, script

pytestmark = pytest.mark.anyio

DAY_MS = 86_400_000


def _candidate() -> tuple[str, int]:
    found = next(known for known in demo_data().callers if known.kind == "candidate" and len(known.expected) == 1
                 and known.expected[0][0] == "Candidate")
    return found.raw_digits, found.expected[0][1]


def _pipeline(stack: Stack, candidate_id: int, statuses: list[str], *, placed: str | None = None) -> list[int]:
    """The candidate's pipeline replaced by submissions in `statuses` (and a placement in `placed`): the job ids."""
    data, now = stack.bullhorn.data, int(time.time() * 1000)
    for table in (data.submissions, data.placements):
        for key in [key for key, row in table.items() if row["candidate"]["id"] == candidate_id]:
            del table[key]
    company = next(iter(data.companies.values()))
    jobs = []
    for n, status in enumerate([*statuses, *([placed] if placed else [])]):
        job = job_order(62_000 + n, f"Role {n}", company, contact_id=0, owner_id=100, is_open=True,
                        status="Accepting Candidates", date_added=now - 30 * DAY_MS)
        data.job_orders[job["id"]] = job
        jobs.append(job["id"])
        if n < len(statuses):
            data.submissions[72_000 + n] = submission(72_000 + n, candidate_id, job, status=status,
                                                      date_added=now - (n + 1) * DAY_MS)
        else:
            data.placements[92_000] = placement(92_000, candidate_id, job, submission_id=None, status=status,
                                                date_begin=now - DAY_MS, date_end=None, date_added=now)
    return jobs


async def _note_and_flag(stack: Stack, call_id: int, raw: str) -> tuple[dict[str, Any], dict[str, Any]]:
    await play(stack, script(call_id, raw))
    counts = await (await stack.worker()).run_once()
    assert counts["synced"] == 1
    [note] = notes_of(stack, call_id)
    detail = (await stack.web.get(f"/api/calls/{call_id}", headers=stack.api_headers)).json()
    return note, detail["flags"]["job_link"]


async def test_a_candidate_with_exactly_one_active_submission_gets_the_note_linked_to_that_job(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        jobs = _pipeline(stack, candidate_id, ["Interview Scheduled", "Client Rejected"])
        note, flag = await _note_and_flag(stack, 9101, raw)

    assert note["jobOrder"] == {"id": jobs[0]}
    assert flag["job_id"] == jobs[0] and "Role 0" in flag["reason"]


async def test_one_active_placement_links_the_note_to_its_job(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        jobs = _pipeline(stack, candidate_id, ["Placed"], placed="Approved")
        note, _ = await _note_and_flag(stack, 9102, raw)

    assert note["jobOrder"] == {"id": jobs[1]}


@pytest.mark.parametrize(("statuses", "why"), [
    ([], "no active"),
    (["Submitted", "Interview Scheduled"], "2 active"),
])
async def test_zero_or_two_active_submissions_leave_the_note_without_a_job(
    tmp_path: Path, statuses: list[str], why: str
) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        _pipeline(stack, candidate_id, statuses)
        note, flag = await _note_and_flag(stack, 9103, raw)

    assert note["jobOrder"] is None
    assert flag["job_id"] is None and why in flag["reason"]


async def test_link_job_off_writes_no_job_even_with_one_active_submission(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path, CALLBRIDGE_LINK_JOB="0") as stack:
        _pipeline(stack, candidate_id, ["Submitted"])
        note, flag = await _note_and_flag(stack, 9104, raw)

    assert note["jobOrder"] is None and "CALLBRIDGE_LINK_JOB=0" in flag["reason"]


async def test_a_refused_pipeline_writes_the_note_without_a_job_and_says_why(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path, bullhorn_config=BullhornSandboxConfig(pipeline_refused=True)) as stack:
        _pipeline(stack, candidate_id, ["Submitted"])
        note, flag = await _note_and_flag(stack, 9105, raw)

    assert note["jobOrder"] is None and "could not be read" in flag["reason"]


async def test_a_contacts_note_is_never_linked_to_a_job(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        note, flag = await _note_and_flag(stack, 9106, caller("contact").raw_digits)

    assert note["jobOrder"] is None and "only a Candidate" in flag["reason"]
