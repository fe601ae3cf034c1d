"""Which job a call's note is linked to (DESIGN §13, `CALLBRIDGE_LINK_JOB`).

When the candidate has exactly one active submission or placement, the note carries that JobOrder in
`jobOrder` (writable on Note: reference/bullhorn-next.md §1). Zero or several: no link, and the call's
flags say why. Bullhorn Automation ignores notes that reference other records, so a tenant whose
automations trigger on candidate notes may turn the link off (`CALLBRIDGE_LINK_JOB=0`).

The pipeline is the one the Insight Card read at ring time when the card pusher recorded it with the
call (`insight.domain.ring_pipeline`: same person, read within `RING_PIPELINE_MAX_AGE`): no Bullhorn
request (DESIGN §15 Bullhorn spend). Otherwise it is read when the note is first written; a pipeline
Bullhorn will not show (403, no answer) writes the note without a link rather than holding it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from insight.domain.budget import Purpose
from insight.domain.card_context import Pipeline
from insight.domain.notes import PersonRef
from insight.domain.ring_pipeline import usable_pipeline
from insight.store.tables import utcnow
from insight.upstream.bullhorn.pipeline import PipelineApi, read_candidate_pipeline
from insight.upstream.errors import UpstreamError
from insight.upstream.meter import metered

log = logging.getLogger("callbridge.sync")

#: the card's pipeline is reused for a note first written this long after the ring at most. A note is
#: written once the call has ended and settled, so a call up to about an hour and a half still reuses
#: its ring's read; the link needs exactly one active job, which seldom changes within hours, and a
#: submission a recruiter adds while on the call is just as likely to be the call's own outcome as the
#: job it was about. A note written later (the worker was down, a Retry the next day) reads it again.
RING_PIPELINE_MAX_AGE = timedelta(hours=2)


@dataclass(frozen=True)
class JobLink:
    job_id: int | None
    title: str | None
    #: in plain words, for the console
    reason: str
    #: where the pipeline came from: "card" (read at ring time), "bullhorn" (read now); None when not read
    source: str | None = None

    def as_flag(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "title": self.title, "reason": self.reason, "source": self.source}


class JobLinker:
    def __init__(self, bullhorn: PipelineApi, *, enabled: bool, clock: Callable[[], datetime] = utcnow) -> None:
        self._bullhorn = bullhorn
        self._enabled = enabled
        self._clock = clock

    async def link_for(self, person: PersonRef, ring_pipeline: Any = None) -> JobLink:
        """The note's link; `ring_pipeline` is what the card recorded (`match_json["pipeline"]`), if anything."""
        if not self._enabled:
            return JobLink(None, None, "Not linked to a job: CALLBRIDGE_LINK_JOB=0")
        if person.entity != "Candidate":
            return JobLink(None, None, "Not linked to a job: only a Candidate's note is")
        now = self._clock()
        pipeline = usable_pipeline(ring_pipeline, person, now=now, max_age=RING_PIPELINE_MAX_AGE)
        if pipeline is not None:
            return _link(pipeline, "card")
        try:
            with metered(Purpose.note):
                pipeline = await read_candidate_pipeline(self._bullhorn, person.id,
                                                         now_ms=int(now.timestamp() * 1000))
        except UpstreamError as error:
            log.warning("note not linked to a job: the candidate's pipeline could not be read: %s", error.explanation,
                        extra={"event": "job_link", "outcome": "unreadable"})
            return JobLink(None, None, f"Not linked to a job: the pipeline could not be read ({error.explanation})")
        return _link(pipeline, "bullhorn")


def _link(pipeline: Pipeline, source: str) -> JobLink:
    job_id = pipeline.job_to_link
    if job_id is not None:
        item = pipeline.items[0]
        where = f" at {item.company}" if item.company else ""
        return JobLink(job_id, item.title, f"Linked to job #{job_id} {item.title or ''}{where} "
                                           f"({item.status or 'active'}): the candidate's only active one", source)
    if pipeline.count == 0:
        return JobLink(None, None, "Not linked to a job: the candidate has no active submission or placement", source)
    return JobLink(None, None, f"Not linked to a job: the candidate has {pipeline.count} active submissions "
                               "or placements, and only exactly one says which job the call was about", source)
