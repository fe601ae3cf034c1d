"""The sandbox's pipeline: JobSubmission, Placement and JobOrder with the queries the client sends, notes by date."""

from __future__ import annotations

import pytest

from insight.domain.card_context import NOTE_FIELDS, PLACEMENT_FIELDS, SUBMISSION_FIELDS
from sandbox.bullhorn_pipeline import job_order, placement, submission
from sandbox.demo_data import build_demo_data
from tests.bullhorn_sandbox_kit import logged_in

pytestmark = pytest.mark.anyio


async def test_a_candidates_submissions_come_newest_first_with_the_job_and_its_company_nested() -> None:
    async with logged_in() as (rest, sandbox, _):
        company = sandbox.data.companies[10]
        job = job_order(5001, "Forklift Operator", company, contact_id=0, owner_id=101, is_open=True,
                        status="Accepting Candidates", date_added=1)
        sandbox.data.job_orders[5001] = job
        for n, added in enumerate((100, 300, 200)):
            sandbox.data.submissions[7001 + n] = submission(7001 + n, 2001, job, status="Submitted", date_added=added)
        sandbox.data.submissions[7009] = submission(7009, 2001, job, status="Submitted", date_added=999,
                                                    is_deleted=True)
        answer = await rest.get("query/JobSubmission", params={
            "where": "candidate.id=2001 AND isDeleted=false", "fields": SUBMISSION_FIELDS, "orderBy": "-dateAdded",
            "count": 50})

    assert answer.status_code == 200, answer.text
    rows = answer.json()["data"]
    assert [row["id"] for row in rows] == [7002, 7003, 7001]
    assert rows[0]["jobOrder"] == {"id": 5001, "title": "Forklift Operator", "isOpen": True,
                                   "clientCorporation": {"id": 10, "name": "Analytical Engines Ltd"}}


async def test_placements_and_open_jobs_answer_their_queries_and_total_when_asked() -> None:
    async with logged_in() as (rest, sandbox, _):
        company = sandbox.data.companies[10]
        for n, (is_open, deleted) in enumerate(((True, False), (True, False), (False, False), (True, True))):
            sandbox.data.job_orders[5001 + n] = job_order(5001 + n, "Welder", company, contact_id=0, owner_id=101,
                                                          is_open=is_open, status="Open", date_added=n,
                                                          is_deleted=deleted)
        sandbox.data.placements[9001] = placement(9001, 2001, sandbox.data.job_orders[5001], submission_id=None,
                                                  status="Approved", date_begin=5, date_end=None, date_added=5)
        placements = await rest.get("query/Placement", params={
            "where": "candidate.id=2001", "fields": PLACEMENT_FIELDS, "orderBy": "-dateBegin"})
        jobs = await rest.get("query/JobOrder", params={
            "where": "clientCorporation.id=10 AND isOpen=true AND isDeleted=false", "fields": "id", "count": 1,
            "showTotalMatched": "true"})

    assert [row["id"] for row in placements.json()["data"]] == [9001]
    assert placements.json()["data"][0]["dateEnd"] is None
    assert jobs.json()["total"] == 2 and len(jobs.json()["data"]) == 1


async def test_with_pipeline_refused_the_pipeline_queries_answer_403_and_the_rest_works() -> None:
    async with logged_in(pipeline_refused=True) as (rest, _, _):
        refused = [await rest.get(f"query/{entity}", params={"where": "id=0", "fields": "id"})
                   for entity in ("JobSubmission", "Placement", "JobOrder")]
        users = await rest.get("query/CorporateUser", params={"where": "isDeleted=false", "fields": "id"})

    assert [answer.status_code for answer in refused] == [403, 403, 403]
    assert users.status_code == 200


async def test_a_persons_notes_come_newest_first_with_their_author() -> None:
    async with logged_in() as (rest, sandbox, _):
        for added in (10, 30, 20):
            note_id = sandbox.store.add_note({"id": None, "personReference": {"id": 2001}, "action": f"A{added}",
                                              "dateAdded": added, "isDeleted": False, "externalID": None,
                                              "commentingPerson": {"id": 101}})
            sandbox.store.add_link(note_id, 2001, "User", added)
        answer = await rest.get("entity/Candidate/2001/notes", params={
            "fields": NOTE_FIELDS, "orderBy": "-dateAdded", "count": 2})

    rows = answer.json()["data"]
    assert [row["action"] for row in rows] == ["A30", "A20"]
    assert rows[0]["commentingPerson"]["firstName"] == "Grace"


def test_the_demo_tenant_has_jobs_and_candidates_with_pipelines() -> None:
    data = build_demo_data()
    candidates = {row["candidate"]["id"] for row in data.submissions.values()}
    assert len(data.job_orders) > 40 and len(candidates) > 100
    assert any(job["isOpen"] for job in data.job_orders.values())
    assert data.placements and all(row["jobOrder"]["id"] in data.job_orders for row in data.placements.values())
