"""`GET /api/setup` (the doctor's checks) and `POST /api/setup/fix` (one fix), both behind the API key.

The same `Doctor` runs behind `python -m insight doctor`; its schemas live in `setup_openapi`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from insight.domain.budget import BudgetReport
from insight.domain.setup_checks import IndexFacts
from insight.lookup.index_reader import IndexSource
from insight.setup.doctor import Doctor
from insight.setup.fixes import UnknownFix, apply_fix
from insight.store.tables import utcnow
from insight.web.api_auth import require_api_key
from insight.web.api_errors import ApiError
from insight.web.budget import budget_now
from insight.web.services import Services

#: a fix request is one short id
MAX_FIX_BODY_BYTES = 4096


def index_facts_of(index: IndexSource) -> Callable[[], Awaitable[IndexFacts]]:
    async def read() -> IndexFacts:
        status = await anyio.to_thread.run_sync(index.status)
        return IndexFacts(ready=status.ready, records_indexed=status.records_indexed,
                          records_total=status.records_total, eta_s=status.eta_s, lag_s=status.lag_s)

    return read


def _doctor(request: Request) -> Doctor:
    services: Services = request.state.services
    require_api_key(request, services.settings)

    async def budget() -> BudgetReport:
        engine = services.store.engine
        return await budget_now(engine, services.settings, services.meter, utcnow())

    return Doctor(settings=services.settings, bullhorn=services.bullhorn, aircall=services.aircall,
                  store=services.store, index=index_facts_of(services.index), budget=budget)


async def setup_checks(request: Request) -> JSONResponse:
    doctor = _doctor(request)
    return JSONResponse({"checks": [check.as_json() for check in await doctor.run()]})


async def setup_fix(request: Request) -> JSONResponse:
    doctor = _doctor(request)
    try:
        body = await request.body()
        if len(body) > MAX_FIX_BODY_BYTES:
            raise ApiError(413, f"the body is larger than {MAX_FIX_BODY_BYTES} bytes")
        body = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "the body is not valid JSON") from None
    fix = body.get("fix") if isinstance(body, dict) else None
    if not isinstance(fix, str) or not fix or set(body) != {"fix"}:
        raise ApiError(400, 'the body must be {"fix": "<fix id>"}, with a fix id from GET /api/setup')
    try:
        outcome = await apply_fix(doctor, fix)
    except UnknownFix as unknown:
        raise ApiError(404, str(unknown), error="unknown_fix") from None
    return JSONResponse({**outcome.check.as_json(), "changed": outcome.changed})


ROUTES = [
    Route("/api/setup", setup_checks, methods=["GET"]),
    Route("/api/setup/fix", setup_fix, methods=["POST"]),
]
