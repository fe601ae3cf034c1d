"""The doctor's pipeline check (DESIGN §13): may the API user read JobSubmission, Placement and JobOrder?

Tried with reads that match nothing (`id=0`). A refusal is `warn`, not `fail`: cards and notes work
without the pipeline (cards then show none, notes are not linked to a job), so it is not one of the
rights callbridge cannot run without (DESIGN §11). The detail also says whether notes are linked to
jobs (`CALLBRIDGE_LINK_JOB`) and Bullhorn Automation's caveat about it.
"""

from __future__ import annotations

from insight.domain.setup_checks import Check
from insight.upstream.bullhorn.pipeline import PipelineApi
from insight.upstream.errors import UpstreamError, UpstreamRejected

CHECK_ID = "bullhorn_right_pipeline"
TITLE = "Bullhorn right: read the pipeline"
PIPELINE_ENTITIES = ("JobSubmission", "Placement", "JobOrder")
LINK_JOB_CAVEAT = ("Bullhorn Automation ignores notes that reference other records, so a note linked to a job "
                   "does not trigger automations on candidate notes: set CALLBRIDGE_LINK_JOB=0 if yours rely on them.")


def link_job_words(link_job: bool) -> str:
    if link_job:
        return ("A candidate's call note is linked to their one active job (CALLBRIDGE_LINK_JOB=1). "
                + LINK_JOB_CAVEAT)
    return "Call notes are not linked to jobs (CALLBRIDGE_LINK_JOB=0)."


async def pipeline_check(bullhorn: PipelineApi, *, link_job: bool) -> Check:
    for entity in PIPELINE_ENTITIES:
        try:
            await bullhorn.query(entity, "id=0", fields="id", count=1)
        except UpstreamRejected as error:
            return Check(CHECK_ID, TITLE, "warn",
                         f"Bullhorn refused to show {entity} ({error.explanation}): cards show no pipeline and "
                         "notes are not linked to jobs until the API user may read JobSubmission, Placement and "
                         "JobOrder.")
        except UpstreamError as error:
            return Check(CHECK_ID, TITLE, "warn", f"Could not be checked just now: {error.explanation}")
    return Check(CHECK_ID, TITLE, "ok",
                 "Bullhorn lets the API user read submissions, placements and jobs: cards show the pipeline. "
                 + link_job_words(link_job))
