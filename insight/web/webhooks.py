"""`POST /webhooks/aircall`: verify, parse, store durably, acknowledge — nothing slower.

Aircall times out at 5 s and disables a webhook after repeated failures, so this handler never
waits on Bullhorn or Aircall: the card push runs in a background task and the note is the
worker's job. An event is acknowledged only once it is committed to the store: the intake writer
(`insight.web.intake_writer`) commits the events of concurrent requests together and answers each
request after its batch's commit.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse

from insight.domain.aircall_events import InvalidPayload, NotJSON, dedupe_key, is_call_event, parse_envelope
from insight.store.intake import CallIntake
from insight.store.intake_batch import EventToRecord
from insight.web.api_errors import ApiError
from insight.web.intake_writer import IntakeFailed, IntakeWriter
from insight.web.services import Services
from shared.settings import Secret

log = logging.getLogger("callbridge.webhooks")

MAX_BODY_BYTES = 1024 * 1024
#: the first of these, whatever order they arrive in, triggers the call's one Insight Card
CARD_EVENTS = frozenset({"call.created", "call.ringing_on_agent", "call.answered"})


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, or 413 — also for chunked requests that carry no Content-Length."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the body is larger than {limit // 1024} KiB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the body is larger than {limit // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def token_is_valid(presented: object, expected: Sequence[Secret]) -> bool:
    if not isinstance(presented, str) or not presented:
        return False
    # compare against every token (no early exit) so timing says nothing about which one matched
    matched = False
    for token in expected:
        matched |= hmac.compare_digest(presented.encode(), token.get().encode())
    return matched


async def aircall_webhook(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    body = await read_limited_body(request)
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON", error="not_json") from None
    token = document.get("token") if isinstance(document, dict) else None
    if not token_is_valid(token, services.settings.aircall_webhook_tokens):
        _outcome(services, "unknown", "unauthorized", None)
        raise ApiError(401, "the webhook token is missing or does not match AIRCALL_WEBHOOK_TOKEN")
    try:
        envelope = parse_envelope(document)
    except NotJSON:
        raise ApiError(400, "the body is not a JSON object", error="not_json") from None
    except InvalidPayload as problem:
        _outcome(services, str(document.get("event", "unknown"))[:64], "invalid", None, field=problem.field)
        raise ApiError(422, str(problem)) from None
    if not is_call_event(envelope.event) or envelope.call_id is None:
        _outcome(services, envelope.event[:64], "ignored", None)
        return JSONResponse({"status": "ignored"})

    call_id = envelope.call_id
    raw_digits = _text(envelope.data.get("raw_digits"))
    writer: IntakeWriter = request.app.state.intake
    try:
        stored = await writer.record(
            EventToRecord(
                dedupe_key=dedupe_key(envelope),
                call_id=call_id,
                event=envelope.event,
                event_timestamp=envelope.timestamp,
                payload=payload_to_store(document),
                intake=CallIntake(direction=_text(envelope.data.get("direction")), raw_digits=raw_digits),
                claim_card=envelope.event in CARD_EVENTS,
            )
        )
    except IntakeFailed:
        _outcome(services, envelope.event, "not_stored", call_id)
        raise ApiError(503, "the event could not be stored and is not accepted; deliver it again") from None
    if not stored.new:
        _outcome(services, envelope.event, "duplicate", call_id)
        return JSONResponse({"status": "duplicate"})
    _outcome(services, envelope.event, "accepted", call_id)
    if stored.card_claimed:
        services.cards.push_soon(call_id, raw_digits)
    return JSONResponse({"status": "accepted"})


def payload_to_store(document: dict[str, object]) -> str:
    """The event as stored: everything Aircall sent but the webhook `token`, a credential (DESIGN §14)."""
    return json.dumps({key: value for key, value in document.items() if key != "token"})


def _outcome(services: Services, event: str, outcome: str, call_id: int | None, **extra: str) -> None:
    services.metrics.webhook(event=event, outcome=outcome)
    level = logging.INFO if outcome in ("accepted", "duplicate", "ignored") else logging.WARNING
    log.log(
        level,
        "webhook %s for call %s: %s",
        event,
        call_id,
        outcome,
        extra={"event": event, "call_id": call_id, "outcome": outcome, **extra},
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
