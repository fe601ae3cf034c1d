"""Insight Card reads: JSON by number or by call (API key), and the signed embeddable HTML card."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from insight.domain.card_context import context_json
from insight.domain.cards import build_card_json, content_security_policy, render_card_html
from insight.domain.phones import PhoneError, normalize, parse_caller
from insight.store.card_context import call_party
from insight.upstream.errors import UpstreamError
from insight.web.api_auth import require_api_key
from insight.web.api_errors import ApiError
from insight.web.services import Services
from insight.web.signing import card_url, verify_card_link

#: the embedded card reloads itself this often during the call
CARD_REFRESH_S = 15
#: how long a card read waits for Bullhorn's part of its context; what is later comes with the next refresh
CONTEXT_WAIT_S = 0.25


async def insight_for_phone(request: Request) -> JSONResponse:
    services: Services = request.state.services
    require_api_key(request, services.settings)
    phone = request.query_params.get("phone", "")
    try:
        e164 = parse_caller(phone, services.settings.default_region)
    except PhoneError as problem:
        raise ApiError(400, f"phone {phone!r} is not usable: {problem}", error="invalid_phone") from None
    return JSONResponse(await _card(services, e164, call_id=None))


async def insight_for_call(request: Request) -> JSONResponse:
    services: Services = request.state.services
    require_api_key(request, services.settings)
    call_id: int = request.path_params["call_id"]
    return JSONResponse(await _call_card(services, call_id))


async def card_page(request: Request) -> HTMLResponse:
    services: Services = request.state.services
    call_id: int = request.path_params["call_id"]
    refusal = verify_card_link(
        call_id,
        request.query_params.get("exp"),
        request.query_params.get("sig"),
        keys=services.settings.signing_keys,
        now=time.time(),
    )
    if refusal is not None:
        raise ApiError(403, refusal)
    card = await _call_card(services, call_id)
    return HTMLResponse(
        render_card_html(card, refresh_s=CARD_REFRESH_S),
        headers={
            "Content-Security-Policy": content_security_policy(services.settings.card_frame_ancestors),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _call_card(services: Services, call_id: int) -> dict[str, Any]:
    call = await anyio.to_thread.run_sync(lambda: call_party(services.store.engine, call_id))
    if call is None:
        raise ApiError(404, f"no call {call_id} has been received from Aircall")
    raw_digits, agent_email = call
    e164 = normalize(raw_digits, services.settings.default_region) if raw_digits else None
    return await _card(services, e164, call_id=call_id, agent_email=agent_email)


async def _card(services: Services, e164: str | None, *, call_id: int | None,
                agent_email: str | None = None) -> dict[str, Any]:
    link = (
        card_url(services.settings.public_url, call_id, key=services.settings.signing_key.get(), now=time.time())
        if call_id is not None
        else None
    )
    started = time.perf_counter()
    try:
        found = await services.lookup.lookup(e164) if e164 else None
        if found is not None:
            services.metrics.lookup_answered(found, time.perf_counter() - started)
        ui_base_url = await services.ui_base_url()
    except UpstreamError as error:
        detail = f"Bullhorn could not be searched: {error.explanation}"
        raise ApiError(503, detail, error="bullhorn_unavailable") from None
    matches = found.matches if found else ()
    ranked = await services.context.card(e164, matches, call_id=call_id, agent_email=agent_email,
                                         wait_s=CONTEXT_WAIT_S) if services.settings.card_context else None
    card = build_card_json(
        e164,
        ranked.matches if ranked else matches,
        call_id=call_id,
        ui_base_url=ui_base_url,
        cached=found.cached if found else False,
        looked_up_at=found.looked_up_at if found else datetime.now(UTC),
        card_url=link,
    )
    if ranked is not None:
        card["context"] = context_json(ranked.context)
    return card
