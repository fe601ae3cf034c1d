"""The demo tenant's pipeline: JobOrders per company, JobSubmissions and Placements of candidates.

Shapes follow reference/bullhorn-next.md §2: a JobOrder has `title`, `clientCorporation`,
`clientContact`, `status`, `isOpen`, `isDeleted`, `owner`; a JobSubmission `candidate`, `jobOrder`,
`status`, `dateAdded`, `isDeleted`; a Placement `candidate`, `jobOrder`, `jobSubmission`, `status`,
`dateBegin`, `dateEnd` (null for a permanent placement) and no `isDeleted` (it is hard-deleted).
Drawn from its own random stream, so adding it left the rest of the demo tenant as it was.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sandbox import people

if TYPE_CHECKING:
    from sandbox.demo_data import DemoData

_NOW_MS = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp() * 1000)
_DAY_MS = 86_400_000
_TITLES = (
    "Forklift Operator", "Registered Nurse", "Software Engineer", "Warehouse Associate", "Accountant",
    "HR Business Partner", "CNC Machinist", "Payroll Specialist", "Project Manager", "Data Analyst",
    "Customer Service Rep", "Electrician", "Welder", "Office Manager",
)
_OPEN_STATUSES = ("Accepting Candidates", "Accepting Candidates", "Interviewing", "Offer Out")
_CLOSED_STATUSES = ("Covered", "Placed", "Cancelled", "Lost to Competition")
#: Bullhorn's default jobResponseStatusList, weighted as a busy desk sees them
_SUBMISSION_STATUSES = {"Submitted": 30, "Client Submission": 15, "Interview Scheduled": 15, "Offer Extended": 5,
                        "Client Rejected": 15, "Candidate Not Interested": 8, "Placed": 12}
#: ids of their own range, apart from the people's (which share one sequence)
FIRST_JOB_ID, FIRST_SUBMISSION_ID, FIRST_PLACEMENT_ID = 5001, 7001, 9001


def add_pipelines(data: DemoData, seed: int) -> None:
    """Jobs for every company and a pipeline for about a third of the live candidates."""
    rng = random.Random(seed ^ 0x70B5)
    owners = [agent.bullhorn_id for agent in people.AGENTS if agent.bullhorn_id is not None]
    contacts_of: dict[int, list[int]] = {}
    for contact in data.contacts.values():
        corporation = contact.get("clientCorporation") or {}
        if not contact.get("isDeleted") and contact.get("status") != "Archive":
            contacts_of.setdefault(int(corporation.get("id", 0)), []).append(int(contact["id"]))
    job_id = FIRST_JOB_ID
    for company in data.companies.values():
        for _ in range(rng.randrange(0, 5)):
            is_open = rng.random() < 0.65
            contacts = contacts_of.get(int(company["id"])) or [0]
            added = _NOW_MS - rng.randrange(1, 240) * _DAY_MS
            data.job_orders[job_id] = job_order(
                job_id, rng.choice(_TITLES), company, contact_id=rng.choice(contacts), owner_id=rng.choice(owners),
                is_open=is_open, status=rng.choice(_OPEN_STATUSES if is_open else _CLOSED_STATUSES),
                date_added=added, is_deleted=rng.random() < 0.03,
            )
            job_id += 1
    jobs = [job for job in data.job_orders.values() if not job["isDeleted"]]
    if not jobs:
        return
    submission_id, placement_id = FIRST_SUBMISSION_ID, FIRST_PLACEMENT_ID
    for candidate in data.candidates.values():
        if candidate.get("isDeleted") or rng.random() > 0.35:
            continue
        for job in rng.sample(jobs, k=min(len(jobs), rng.choice((1, 1, 2, 3, 4)))):
            status = rng.choices(list(_SUBMISSION_STATUSES), list(_SUBMISSION_STATUSES.values()))[0]
            added = job["dateAdded"] + rng.randrange(1, 30) * _DAY_MS
            data.submissions[submission_id] = submission(submission_id, int(candidate["id"]), job, status=status,
                                                         date_added=added, is_deleted=rng.random() < 0.02)
            if status == "Placed":
                begin = added + rng.randrange(7, 40) * _DAY_MS
                ended = rng.random() < 0.3
                data.placements[placement_id] = placement(
                    placement_id, int(candidate["id"]), job, submission_id=submission_id,
                    status="Completed" if ended else rng.choice(("Approved", "Submitted")),
                    date_begin=begin, date_end=begin + 90 * _DAY_MS if ended else None, date_added=added,
                )
                placement_id += 1
            submission_id += 1


def job_order(job_id: int, title: str, company: dict[str, Any], *, contact_id: int, owner_id: int, is_open: bool,
              status: str, date_added: int, is_deleted: bool = False) -> dict[str, Any]:
    return {
        "id": job_id, "title": title, "clientCorporation": {"id": company["id"]},
        "clientContact": {"id": contact_id}, "owner": {"id": owner_id}, "status": status, "isOpen": is_open,
        "isDeleted": is_deleted, "dateAdded": date_added, "dateClosed": None if is_open else date_added,
        "dateLastModified": date_added,
    }


def submission(submission_id: int, candidate_id: int, job: dict[str, Any], *, status: str, date_added: int,
               is_deleted: bool = False) -> dict[str, Any]:
    return {
        "id": submission_id, "candidate": {"id": candidate_id}, "jobOrder": {"id": job["id"]}, "status": status,
        "dateAdded": date_added, "isDeleted": is_deleted, "isHidden": False, "sendingUser": job["owner"],
        "dateLastModified": date_added,
    }


def placement(placement_id: int, candidate_id: int, job: dict[str, Any], *, submission_id: int | None, status: str,
              date_begin: int, date_end: int | None, date_added: int) -> dict[str, Any]:
    return {
        "id": placement_id, "candidate": {"id": candidate_id}, "jobOrder": {"id": job["id"]},
        "jobSubmission": {"id": submission_id} if submission_id is not None else None, "status": status,
        "dateBegin": date_begin, "dateEnd": date_end, "employmentType": "Contract" if date_end else "Permanent",
        "dateAdded": date_added, "dateLastModified": date_added,
    }
