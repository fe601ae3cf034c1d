"""Which job a call's note is linked to (DESIGN §13, `CALLBRIDGE_LINK_JOB`).

When the candidate has exactly one active submission or placement, the note carries that JobOrder in
`jobOrder` (writable on Note: reference/bullhorn-next.md §1). Zero or several: no link, and the call's
flags say why. Bullhorn Automation ignores notes that reference other records, so a tenant whose
automations trigger on candidate notes may turn the link off (`CALLBRIDGE_LINK_JOB=0`).

The pipeline is read when the note is first written; a pipeline Bullhorn will not show (403, no
answer) writes the note without a link rather than holding it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from insight.domain.budget import Purpose
from insight.domain.notes import PersonRef
from insight.store.tables import utcnow
from insight.upstream.bullhorn.pipeline import PipelineApi, read_candidate_pipeline
from insight.upstream.errors import UpstreamError
from insight.upstream.meter import metered

log = logging.getLogger("callbridge.sync")


@dataclass(frozen=True)
class JobLink:
    job_id: int | None
    title: str | None
    #: in plain words, for the console
    reason: str

    def as_flag(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "title": self.title, "reason": self.reason}


class JobLinker:
    def __init__(self, bullhorn: PipelineApi, *, enabled: bool, clock: Callable[[], datetime] = utcnow) -> None:
        self._bullhorn = bullhorn
        self._enabled = enabled
        self._clock = clock

    async def link_for(self, person: PersonRef) -> JobLink:
        if not self._enabled:
            return JobLink(None, None, "Not linked to a job: CALLBRIDGE_LINK_JOB=0")
        if person.entity != "Candidate":
            return JobLink(None, None, "Not linked to a job: only a Candidate's note is")
        try:
            with metered(Purpose.note):
                pipeline = await read_candidate_pipeline(self._bullhorn, person.id,
                                                         now_ms=int(self._clock().timestamp() * 1000))
        except UpstreamError as error:
            log.warning("note not linked to a job: the candidate's pipeline could not be read: %s", error.explanation,
                        extra={"event": "job_link", "outcome": "unreadable"})
            return JobLink(None, None, f"Not linked to a job: the pipeline could not be read ({error.explanation})")
        job_id = pipeline.job_to_link
        if job_id is not None:
            item = pipeline.items[0]
            where = f" at {item.company}" if item.company else ""
            return JobLink(job_id, item.title, f"Linked to job #{job_id} {item.title or ''}{where} "
                                               f"({item.status or 'active'}): the candidate's only active one")
        if pipeline.count == 0:
            return JobLink(None, None, "Not linked to a job: the candidate has no active submission or placement")
        return JobLink(None, None, f"Not linked to a job: the candidate has {pipeline.count} active submissions "
                                   "or placements, and only exactly one says which job the call was about")
