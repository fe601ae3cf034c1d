"""The card's context (DESIGN §13) end to end: webhooks in, card JSON, HTML and Aircall card out, sandbox Bullhorn."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.bullhorn import BullhornSandboxConfig
from sandbox.bullhorn_pipeline import job_order, placement, submission
from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.people import AGENTS, LINES, Agent
from tests.stack import WEBHOOK_TOKEN, Stack, demo_data, running_stack
from tests.worker_kit import caller

pytestmark = pytest.mark.anyio

DAY_MS = 86_400_000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _call(call_id: int, raw_digits: str, *, by: Agent = AGENTS[0], kind: CallKind = CallKind.OUTBOUND_ANSWERED,
          started_at: int | None = None) -> CallScript:
    return CallScript(call_id=call_id, kind=kind, agent=by, line=LINES[0], raw_digits=raw_digits,
                      started_at=started_at or int(time.time()), talk_s=60)


async def _deliver(stack: Stack, call: CallScript, *, events: tuple[str, ...] | None = None) -> None:
    for scheduled in lifecycle(call, token=WEBHOOK_TOKEN):
        if events is None or scheduled.envelope["event"] in events:
            assert (await stack.deliver(scheduled.envelope)).status_code == 200
    await stack.settle()


async def _context(stack: Stack, call_id: int) -> dict[str, Any]:
    answer = await stack.web.get(f"/api/calls/{call_id}/insight", headers=stack.api_headers)
    assert answer.status_code == 200, answer.text
    card: dict[str, Any] = answer.json()
    return card


def _clear_pipeline(stack: Stack, candidate_id: int) -> None:
    data = stack.bullhorn.data
    for table in (data.submissions, data.placements):
        for key in [key for key, row in table.items() if row["candidate"]["id"] == candidate_id]:
            del table[key]


def _company(stack: Stack) -> dict[str, Any]:
    return next(iter(stack.bullhorn.data.companies.values()))


def _candidate(index: int = 0) -> tuple[str, int]:
    found = [known for known in demo_data().callers if known.kind == "candidate" and len(known.expected) == 1
             and known.expected[0][0] == "Candidate"][index]
    return found.raw_digits, found.expected[0][1]


async def test_a_person_with_no_history_has_an_empty_context(tmp_path: Path) -> None:
    raw, candidate_id = _candidate()
    async with running_stack(tmp_path) as stack:
        _clear_pipeline(stack, candidate_id)
        await _deliver(stack, _call(8001, raw), events=("call.created",))

        context = (await _context(stack, 8001))["context"]

        assert context == {"last_contact": None, "on_call_now": [], "pipeline": {"items": [], "count": 0},
                           "complete": True, "unavailable": []}


async def test_a_candidate_with_several_submissions_shows_the_three_newest_active_ones_and_counts_them_all(
    tmp_path: Path,
) -> None:
    raw, candidate_id = _candidate()
    now = _now_ms()
    async with running_stack(tmp_path) as stack:
        _clear_pipeline(stack, candidate_id)
        data, company = stack.bullhorn.data, _company(stack)
        jobs = [job_order(60_000 + n, f"Job {n}", company, contact_id=0, owner_id=100, is_open=n != 5,
                          status="Accepting Candidates", date_added=now - 90 * DAY_MS) for n in range(7)]
        data.job_orders.update((job["id"], job) for job in jobs)
        rows = [  # (job, status, days ago, deleted)
            (0, "Submitted", 9, False), (1, "Interview Scheduled", 2, False), (2, "Client Submission", 5, False),
            (3, "Client Rejected", 1, False), (4, "Submitted", 1, True), (5, "Submitted", 1, False),
            (6, "Offer Extended", 20, False),
        ]
        for n, (job, status, days, deleted) in enumerate(rows):
            data.submissions[70_000 + n] = submission(70_000 + n, candidate_id, jobs[job], status=status,
                                                      date_added=now - days * DAY_MS, is_deleted=deleted)
        # an ended placement is no pipeline; a running one is, newest of all
        data.placements[90_000] = placement(90_000, candidate_id, jobs[6], submission_id=None, status="Approved",
                                            date_begin=now - DAY_MS // 2, date_end=None, date_added=now)
        data.placements[90_001] = placement(90_001, candidate_id, jobs[3], submission_id=None, status="Completed",
                                            date_begin=now - 30 * DAY_MS, date_end=now - DAY_MS, date_added=now)
        await _deliver(stack, _call(8002, raw), events=("call.created",))

        pipeline = (await _context(stack, 8002))["context"]["pipeline"]
        cards = stack.cards_for(8002)

    assert pipeline["count"] == 4  # jobs 0, 1, 2 and the placement on job 6
    assert [(item["job_id"], item["status"]) for item in pipeline["items"]] == [
        (60_006, "Approved"), (60_001, "Interview Scheduled"), (60_002, "Client Submission")]
    assert pipeline["items"][0] == {"job_id": 60_006, "title": "Job 6", "company": company["name"],
                                    "status": "Approved"}
    # the Aircall card followed with the pipeline once Bullhorn answered
    lines = [(line.get("label"), line["text"]) for line in cards[-1]["contents"]]
    assert ("Approved", "Job 6") in lines and ("Pipeline", "1 more active") in lines


async def test_a_contacts_card_counts_the_open_jobs_of_the_contacts_company(tmp_path: Path) -> None:
    found = caller("contact")
    entity, contact_id = found.expected[0]
    assert entity == "ClientContact"
    now = _now_ms()
    async with running_stack(tmp_path) as stack:
        data = stack.bullhorn.data
        company_id = data.contacts[contact_id]["clientCorporation"]["id"]
        company = data.companies[company_id]
        theirs = [job_id for job_id, job in data.job_orders.items() if job["clientCorporation"]["id"] == company_id]
        for job_id in theirs:
            del data.job_orders[job_id]
        for n, (is_open, deleted) in enumerate([(True, False), (True, False), (False, False), (True, True)]):
            data.job_orders[61_000 + n] = job_order(61_000 + n, "Welder", company, contact_id=contact_id, owner_id=100,
                                                    is_open=is_open, status="Open", date_added=now,
                                                    is_deleted=deleted)
        await _deliver(stack, _call(8003, found.raw_digits), events=("call.created",))

        context = (await _context(stack, 8003))["context"]

    assert context["pipeline"] == {"open_jobs": 2}


async def test_a_colleague_already_on_a_call_with_the_number_shows_on_the_second_agents_card(tmp_path: Path) -> None:
    raw, _ = _candidate()
    first, second = AGENTS[0], AGENTS[1]
    async with running_stack(tmp_path) as stack:
        await _deliver(stack, _call(8011, raw, by=first), events=("call.created", "call.answered"))
        await _deliver(stack, _call(8012, raw, by=second), events=("call.created",))

        theirs = (await _context(stack, 8012))["context"]["on_call_now"]
        mine = (await _context(stack, 8011))["context"]["on_call_now"]
        card = stack.cards_for(8012)[-1]  # the first card, or its refresh
        await _deliver(stack, _call(8011, raw, by=first), events=("call.hungup", "call.ended"))
        after = (await _context(stack, 8012))["context"]["on_call_now"]

    # each sees the other, never themselves nor the call they are on
    assert [call["agent"] for call in theirs] == [first.name]
    assert [call["agent"] for call in mine] == [second.name]
    assert {"type": "shortText", "label": "On a call now", "text": first.name[:25]} in card["contents"]
    assert after == []


async def test_the_last_contact_is_the_previous_call_never_the_ringing_one(tmp_path: Path) -> None:
    raw, _ = _candidate()
    earlier = int(time.time()) - 3 * 3600
    async with running_stack(tmp_path) as stack:
        await _deliver(stack, _call(8021, raw, by=AGENTS[2], started_at=earlier))
        await _deliver(stack, _call(8022, raw, by=AGENTS[0]), events=("call.created",))

        contact = (await _context(stack, 8022))["context"]["last_contact"]
        html_page = (await stack.web.get((await _context(stack, 8022))["card_url"].replace(
            "http://callbridge.test", ""))).text

    assert contact["kind"] == "call" and contact["direction"] == "outbound"
    assert contact["by"] in (AGENTS[2].name, AGENTS[2].aircall_email)
    assert contact["at"].startswith(time.strftime("%Y-%m-%dT", time.gmtime(earlier)))
    assert "Last contact" in html_page and "3 h ago" in html_page


def _add_note(stack: Stack, person_id: int, *, action: str, external_id: str | None, hours_ago: float,
              by: Agent = AGENTS[3]) -> None:
    now = _now_ms()
    store = stack.bullhorn.store
    note_id = store.add_note({"id": None, "personReference": {"id": person_id}, "isDeleted": False,
                              "commentingPerson": {"id": by.bullhorn_id}, "action": action,
                              "externalID": external_id, "dateAdded": now - int(hours_ago * 3600_000)})
    store.add_link(note_id, person_id, "User", now)


async def test_a_newer_bullhorn_note_is_the_last_contact_and_a_callbridge_note_counts_as_its_call(
    tmp_path: Path,
) -> None:
    (raw, typed_id), (raw_2, ours_id) = _candidate(), _candidate(index=1)
    async with running_stack(tmp_path) as stack:
        # a note a recruiter typed an hour ago; on another person, callbridge's own note for a call it no longer holds
        _add_note(stack, typed_id, action="Left Message", external_id=None, hours_ago=1)
        _add_note(stack, ours_id, action="Outbound Call", external_id="aircall:7777", hours_ago=2)
        _add_note(stack, ours_id, action="Meeting", external_id=None, hours_ago=30)
        for call_id, number in ((8031, raw), (8033, raw_2)):
            await _deliver(stack, _call(call_id, number, started_at=int(time.time()) - 5 * 3600))
        await _deliver(stack, _call(8032, raw), events=("call.created",))
        await _deliver(stack, _call(8034, raw_2), events=("call.created",))

        typed = (await _context(stack, 8032))["context"]["last_contact"]
        ours = (await _context(stack, 8034))["context"]["last_contact"]

    assert (typed["kind"], typed["action"], typed["by"]) == ("note", "Left Message", AGENTS[3].name)
    assert (ours["kind"], ours["action"], ours["by"]) == ("call", "Outbound Call", AGENTS[3].name)


async def test_bullhorn_refusing_the_pipeline_leaves_the_card_without_it_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw, _ = _candidate()
    async with running_stack(tmp_path, bullhorn_config=BullhornSandboxConfig(pipeline_refused=True)) as stack:
        with caplog.at_level(logging.WARNING, logger="callbridge.context"):
            await _deliver(stack, _call(8041, raw), events=("call.created",))
            card = await _context(stack, 8041)
        aircall_card = stack.cards_for(8041)[0]

    assert card["matches"] and card["context"]["pipeline"] is None
    assert any("refused" in reason or "403" in reason for reason in card["context"]["unavailable"])
    assert aircall_card["contents"][0]["type"] == "title"
    assert any("pipeline" in record.getMessage() and "403" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(("owned", "active", "first"), [
    (None, None, 0),  # DESIGN §4 alone: the more recently modified
    (1, None, 1),  # the calling agent's own record first
    (None, 1, 1),  # else the one with an active pipeline
    (0, 1, 0),  # ownership before pipeline
])
async def test_a_shared_number_ranks_the_agents_own_record_then_an_active_pipeline_before_recency(
    tmp_path: Path, owned: int | None, active: int | None, first: int
) -> None:
    shared = caller("two_candidates")
    ids = [record_id for _, record_id in shared.expected]
    agent, stranger = AGENTS[0], AGENTS[5]
    assert agent.bullhorn_id is not None and stranger.bullhorn_id is not None
    async with running_stack(tmp_path) as stack:
        data = stack.bullhorn.data
        for record_id in ids:
            data.candidates[record_id]["owner"] = {"id": stranger.bullhorn_id}
            _clear_pipeline(stack, record_id)
        if owned is not None:
            data.candidates[ids[owned]]["owner"] = {"id": agent.bullhorn_id}
        if active is not None:
            job = job_order(63_000, "Nurse", _company(stack), contact_id=0, owner_id=100, is_open=True,
                            status="Accepting Candidates", date_added=_now_ms())
            data.job_orders[job["id"]] = job
            data.submissions[73_000] = submission(73_000, ids[active], job, status="Submitted", date_added=_now_ms())
        stack.bullhorn.changed(None)
        await _deliver(stack, _call(8051, shared.raw_digits, by=agent), events=("call.created",))

        card = await _context(stack, 8051)

    assert [match["id"] for match in card["matches"]] == [ids[first], ids[1 - first]]
    assert card["more"] == 0


async def test_card_context_off_gives_the_card_of_design_section_3_and_asks_bullhorn_nothing_more(
    tmp_path: Path,
) -> None:
    raw, _ = _candidate()
    async with running_stack(tmp_path, CALLBRIDGE_CARD_CONTEXT="0") as stack:
        await _deliver(stack, _call(8061, raw), events=("call.created",))
        card = await _context(stack, 8061)
        requests = stack.bullhorn.faults.requests

    assert "context" not in card and card["matches"]
    assert len(stack.cards_for(8061)) == 1
    assert not any(endpoint.startswith(("GET query/Job", "GET query/Placement")) or endpoint.endswith("/notes")
                   for endpoint in requests)
