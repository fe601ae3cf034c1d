"""A call's note linked to the candidate's one active job (DESIGN §13, CALLBRIDGE_LINK_JOB), against the sandbox."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from insight.store.tables import calls
from sandbox.bullhorn import BullhornSandboxConfig
from sandbox.bullhorn_pipeline import job_order, placement, submission
from tests.stack import Stack, demo_data, running_stack
from tests.worker_kit import caller, notes_of, play, script
from tests.worker_kit import row as call_row

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


def _pipeline_reads(stack: Stack) -> int:
    requests = stack.bullhorn.faults.requests
    return requests["GET query/JobSubmission"] + requests["GET query/Placement"]


async def _worker_note(stack: Stack, call_id: int) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The note the worker writes for a call already played, its job-link flag, and the pipeline reads it made."""
    before = _pipeline_reads(stack)
    counts = await (await stack.worker()).run_once()
    assert counts["synced"] == 1
    [note] = notes_of(stack, call_id)
    detail = (await stack.web.get(f"/api/calls/{call_id}", headers=stack.api_headers)).json()
    return note, detail["flags"]["job_link"], _pipeline_reads(stack) - before


def _recorded_pipeline(stack: Stack, call_id: int, **changes: Any) -> None:
    stored = call_row(stack, call_id)["match_json"]
    assert stored["pipeline"]["count"] >= 0
    with stack.store.engine.begin() as connection:
        connection.execute(update(calls).where(calls.c.call_id == call_id)
                           .values(match_json={**stored, "pipeline": {**stored["pipeline"], **changes}}))


async def test_a_call_whose_card_read_the_candidates_pipeline_gets_its_note_linked_without_reading_it_again(
    tmp_path: Path,
) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        jobs = _pipeline(stack, candidate_id, ["Interview Scheduled", "Client Rejected"])
        await play(stack, script(9111, raw))
        assert _pipeline_reads(stack) == 2  # the card's read at ring time

        note, flag, reads = await _worker_note(stack, 9111)

    assert reads == 0
    assert note["jobOrder"] == {"id": jobs[0]}
    assert flag["job_id"] == jobs[0] and "Role 0" in flag["reason"] and flag["source"] == "card"


async def test_a_card_pipeline_read_more_than_two_hours_before_the_note_is_read_again(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        _pipeline(stack, candidate_id, ["Submitted"])
        await play(stack, script(9112, raw))
        # since the ring the candidate was submitted to a second job: only the live read knows
        _pipeline(stack, candidate_id, ["Submitted", "Interview Scheduled"])
        stack.clock.advance(2 * 3600 + 60)

        note, flag, reads = await _worker_note(stack, 9112)

    assert reads == 2
    assert note["jobOrder"] is None
    assert "2 active" in flag["reason"] and flag["source"] == "bullhorn"


async def test_a_card_pipeline_about_another_person_is_not_used_for_the_note(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        jobs = _pipeline(stack, candidate_id, ["Submitted"])
        await play(stack, script(9113, raw))
        _recorded_pipeline(stack, 9113, id=candidate_id + 1, items=[], count=0)

        note, flag, reads = await _worker_note(stack, 9113)

    assert reads == 2
    assert note["jobOrder"] == {"id": jobs[0]} and flag["source"] == "bullhorn"


@pytest.mark.parametrize("malformed", [
    {"read_at": "at ring time"},
    {"items": [{"job_id": "62000"}]},
    {"count": "one"},
    {"entity": None},
])
async def test_a_malformed_card_pipeline_is_ignored_and_the_pipeline_read_live(
    tmp_path: Path, malformed: dict[str, Any]
) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        jobs = _pipeline(stack, candidate_id, ["Submitted"])
        await play(stack, script(9114, raw))
        _recorded_pipeline(stack, 9114, **malformed)

        note, flag, reads = await _worker_note(stack, 9114)

    assert reads == 2
    assert note["jobOrder"] == {"id": jobs[0]} and flag["source"] == "bullhorn"


async def test_a_call_whose_card_recorded_no_pipeline_has_it_read_when_the_note_is_written(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path, CALLBRIDGE_CARD_CONTEXT="0") as stack:
        jobs = _pipeline(stack, candidate_id, ["Submitted"])
        await play(stack, script(9115, raw))
        assert "pipeline" not in call_row(stack, 9115)["match_json"]

        note, flag, reads = await _worker_note(stack, 9115)

    assert reads == 2
    assert note["jobOrder"] == {"id": jobs[0]} and flag["source"] == "bullhorn"
