"""`POST /api/backfill` and `GET /api/backfill/{job}`: on-demand backfill runs (DESIGN §11 "Backfill").

The run happens in this process, off the request (202 at once); its progress and outcome live in
the store, so any replica answers `GET`. A run whose process died is marked `failed` at the next start.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime

import anyio.to_thread
from prometheus_client.core import CounterMetricFamily, Metric
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from insight.backfill.runner import utc_from_unix
from insight.domain.backfill import RangeError, check_range
from insight.store import backfill as rows
from insight.store.scrape import StoreCollector
from insight.store.tables import utcnow
from insight.web.api_auth import require_api_key
from insight.web.api_errors import ApiError
from insight.web.services import Services

log = logging.getLogger("callbridge.web")

#: job ids are uuid4 hex
_JOB_ID_LEN = 32
async def start_backfill(request: Request) -> JSONResponse:
    services: Services = request.state.services
    require_api_key(request, services.settings)
    document = _json_object(await request.body())
    start = _moment(document, "from", required=True)
    end = _moment(document, "to", required=False)
    now = utcnow()
    try:
        window = check_range(start or now, end or now, now=now)
    except RangeError as problem:
        raise ApiError(400, str(problem), error="invalid_range") from None
    job = await services.backfills.start(utc_from_unix(window.start), utc_from_unix(window.end))
    log.info("backfill %s requested for %s to %s", job.job_id, job.window_from, job.window_to)
    return JSONResponse({"job": job.job_id}, status_code=202)


async def get_backfill(request: Request) -> JSONResponse:
    services: Services = request.state.services
    require_api_key(request, services.settings)
    job_id = request.path_params["job"]
    if len(job_id) != _JOB_ID_LEN or not all(char in "0123456789abcdef" for char in job_id):
        raise ApiError(404, f"no backfill job {job_id[:40]!r}")
    job = await anyio.to_thread.run_sync(rows.get_job, services.store.engine, job_id)
    if job is None:
        raise ApiError(404, f"no backfill job {job_id!r}")
    return JSONResponse(job.as_json())


def _json_object(body: bytes) -> dict[str, object]:
    try:
        document = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise ApiError(400, "the body is not valid JSON", error="not_json") from None
    if not isinstance(document, dict):
        raise ApiError(400, 'the body must be a JSON object: {"from": "<ISO 8601>", "to": "<ISO 8601>" | null}')
    return document


def _moment(document: dict[str, object], field: str, *, required: bool) -> datetime | None:
    value = document.get(field)
    if value is None:
        if required:
            raise ApiError(400, f"{field} is required: an ISO 8601 time such as 2026-12-01T09:00:00Z",
                           error="invalid_range")
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{field} must be an ISO 8601 string", error="invalid_range")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{field} is not an ISO 8601 time: {value[:40]!r}", error="invalid_range") from None
    if moment.tzinfo is None:
        raise ApiError(400, f"{field} must carry a time zone (e.g. Z)", error="invalid_range")
    return moment


class BackfillCollector(StoreCollector):
    """Calls backfill took in (every process's), read from the store at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def read(self) -> Iterator[Metric]:
        yield CounterMetricFamily("callbridge_backfill_calls_taken_in",
                                  "Calls the webhooks missed that backfill took in from Aircall's call list",
                                  value=rows.backfilled_count(self._engine))


ROUTES = [
    Route("/api/backfill", start_backfill, methods=["POST"]),
    Route("/api/backfill/{job}", get_backfill),
]
