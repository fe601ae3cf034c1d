"""`/healthz` (the process answers) and `/readyz` (the store and the Bullhorn session work)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse

from insight.store import StoreError
from insight.upstream.errors import UpstreamError
from insight.web.services import Services
from shared.timefmt import iso_from_epoch

#: readiness must answer well inside a load balancer's probe timeout even when Bullhorn hangs
READY_TIMEOUT_S = 8.0


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.state.services
    checks = {"store": await _store_check(services), "bullhorn": await _bullhorn_check(services)}
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _store_check(services: Services) -> dict[str, Any]:
    try:
        await anyio.to_thread.run_sync(services.store.ping)
    except StoreError as error:
        return {"ok": False, "detail": str(error)}
    return {"ok": True, "dialect": services.store.dialect}


async def _bullhorn_check(services: Services) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with anyio.fail_after(READY_TIMEOUT_S):
            session = await services.bullhorn.auth.session()
    except TimeoutError:
        detail = f"Bullhorn did not answer within {READY_TIMEOUT_S:g} s"
        return {"ok": False, "session": "unavailable", "detail": detail}
    except UpstreamError as error:
        return {"ok": False, "session": "unavailable", "detail": error.explanation}
    expires = iso_from_epoch(session.expires_at) if session.expires_at else None
    return {
        "ok": True,
        "session": "established",
        "rest_host": urlsplit(session.rest_url).netloc,
        "expires_at": expires,
        "checked_in_ms": round((time.perf_counter() - started) * 1000, 1),
    }
