"""Bullhorn reads behind the card's context (DESIGN §13), as reference/bullhorn-next.md §2 and §5 give them.

- a candidate's pipeline: `query/JobSubmission` and `query/Placement` where `candidate.id` is the
  candidate (JobSubmission has no documented `/search`; Placement has no `isDeleted`, it is hard-deleted);
- a contact's company's open jobs: the contact's `clientCorporation`, then `query/JobOrder` where that
  company, `isOpen=true AND isDeleted=false`, counted with `showTotalMatched`;
- the person's latest notes: the association GET `entity/{E}/{id}/notes` ordered by `-dateAdded`
  (`query/Note` is not supported; `search/Note` misses notes on some tenants).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from insight.domain.card_context import (
    NOTE_FIELDS,
    PLACEMENT_FIELDS,
    SUBMISSION_FIELDS,
    CompanyJobs,
    Pipeline,
    candidate_pipeline,
)

#: rows read per pipeline query: a candidate with more active submissions than this is rare, and the
#: card shows three
PIPELINE_PAGE = 50
#: latest notes read: the newest is what counts, a few more skip notes about the ringing call
NOTES_PAGE = 3
JOBS_PAGE = 500


class PipelineApi(Protocol):
    async def query(self, entity: str, where: str, *, fields: str, count: int = 20, start: int = 0,
                    order_by: str | None = None, show_total: bool = False) -> dict[str, Any]: ...

    async def get(self, entity: str, ids: int, *, fields: str) -> dict[str, Any]: ...

    async def person_notes(self, entity: str, person_id: int, *, fields: str = ..., count: int = ...,
                           start: int = ..., order_by: str = ...) -> list[dict[str, Any]]: ...


async def read_candidate_pipeline(bullhorn: PipelineApi, candidate_id: int, *, now_ms: int) -> Pipeline:
    submissions, placements = await asyncio.gather(
        bullhorn.query("JobSubmission", f"candidate.id={candidate_id} AND isDeleted=false",
                       fields=SUBMISSION_FIELDS, count=PIPELINE_PAGE, order_by="-dateAdded"),
        bullhorn.query("Placement", f"candidate.id={candidate_id}", fields=PLACEMENT_FIELDS,
                       count=PIPELINE_PAGE, order_by="-dateBegin"),
    )
    return candidate_pipeline(_rows(submissions), _rows(placements), now_ms=now_ms)


async def read_company_jobs(bullhorn: PipelineApi, contact_id: int) -> CompanyJobs:
    contact = await bullhorn.get("ClientContact", contact_id, fields="id,clientCorporation(id)")
    corporation = contact.get("clientCorporation")
    company_id = corporation.get("id") if isinstance(corporation, dict) else None
    if not isinstance(company_id, int) or isinstance(company_id, bool):
        return CompanyJobs(0)
    # `showTotalMatched` makes Bullhorn send `total` (sdk-rest always sends it; whether it comes without is
    # unconfirmed), so a big company is counted right; without it, the rows of one page are counted
    answer = await bullhorn.query("JobOrder", f"clientCorporation.id={company_id} AND isOpen=true AND isDeleted=false",
                                  fields="id", count=JOBS_PAGE, order_by="-dateAdded", show_total=True)
    total = answer.get("total")
    return CompanyJobs(total if isinstance(total, int) and not isinstance(total, bool) else len(_rows(answer)))


async def read_latest_notes(bullhorn: PipelineApi, entity: str, person_id: int) -> list[dict[str, Any]]:
    return await bullhorn.person_notes(entity, person_id, fields=NOTE_FIELDS, count=NOTES_PAGE,
                                       order_by="-dateAdded")


def _rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    data = answer.get("data")
    return [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []
