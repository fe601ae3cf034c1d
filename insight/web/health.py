"""`/healthz` (the process answers), `/readyz` (public, one word) and `GET /api/health` (API key, the details).

Readiness reports what the process already knows: the store answers a ping, and the Bullhorn session
is not known to be broken (no refused login within `CALLBRIDGE_LOGIN_BACKOFF_S`). It never logs in to
Bullhorn, so a probe every few seconds costs Bullhorn nothing, and says nothing more in public.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse

from insight.store import StoreError
from insight.upstream.bullhorn.auth import SessionStatus
from insight.web.api_auth import require_api_key
from insight.web.services import Services
from shared.timefmt import iso_from_epoch


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.state.services
    checks = await _checks(services)
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse({"status": "ready" if ready else "not_ready"}, status_code=200 if ready else 503)


async def health_report(request: Request) -> JSONResponse:
    services: Services = request.state.services
    require_api_key(request, services.settings)
    checks = await _checks(services)
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks})


async def _checks(services: Services) -> dict[str, dict[str, Any]]:
    return {"store": await _store_check(services), "bullhorn": _bullhorn_check(await services.bullhorn.auth.status())}


async def _store_check(services: Services) -> dict[str, Any]:
    try:
        await anyio.to_thread.run_sync(services.store.ping)
    except StoreError as error:
        return {"ok": False, "detail": str(error)}
    return {"ok": True, "dialect": services.store.dialect}


def _bullhorn_check(status: SessionStatus) -> dict[str, Any]:
    if status.failure is not None:
        return {"ok": False, "session": "unavailable", "detail": status.failure.explanation,
                "retry_at": _iso(status.retry_at)}
    session = status.session
    if session is None:
        # nothing has needed Bullhorn yet: the first lookup or note logs in
        return {"ok": True, "session": "not_established"}
    return {"ok": True, "session": "established", "rest_host": urlsplit(session.rest_url).netloc,
            "expires_at": _iso(session.expires_at)}


def _iso(epoch_s: float | None) -> str | None:
    return iso_from_epoch(epoch_s) if epoch_s else None
