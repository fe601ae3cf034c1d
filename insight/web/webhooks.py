"""`POST /webhooks/aircall`: verify, parse, store durably, acknowledge — nothing slower.

Aircall times out at 5 s and disables a webhook after repeated failures, so this handler never
waits on Bullhorn or Aircall: the card is built and pushed in a background task, started as the
event is parsed and sent once the store gave this delivery the call's card, and the note is the
worker's job. An event is acknowledged only once it is committed to the store: the intake writer
(`insight.web.intake_writer`) commits the events of concurrent requests together and answers each
request after its batch's commit. The 1 MiB body limit is `insight.web.body_limit`'s, as on every route.
"""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from insight.domain.aircall_events import (
    AI_EVENTS,
    MESSAGE_EVENTS,
    InvalidPayload,
    NotJSON,
    is_call_event,
    load_json,
    parse_envelope,
)
from insight.store.intake_batch import event_to_record
from insight.web.api_errors import ApiError
from insight.web.intake_writer import IntakeFailed
from insight.web.message_intake import accept_message
from insight.web.services import Services
from insight.web.webhook_tokens import AcceptedTokens

log = logging.getLogger("callbridge.webhooks")

#: the first of these, whatever order they arrive in, triggers the call's one Insight Card
CARD_EVENTS = frozenset({"call.created", "call.ringing_on_agent", "call.answered"})


async def aircall_webhook(request: Request) -> JSONResponse:
    services: Services = request.state.services
    body = await request.body()
    try:
        document = load_json(body)
    except NotJSON as problem:
        raise ApiError(400, str(problem), error="not_json") from None
    token = document.get("token") if isinstance(document, dict) else None
    tokens: AcceptedTokens = services.webhook_tokens
    if not await tokens.accepts(token):
        _outcome(services, "unknown", "unauthorized", None)
        raise ApiError(401, "the webhook token is missing or matches neither AIRCALL_WEBHOOK_TOKEN nor a webhook "
                            "callbridge registered")
    try:
        envelope = parse_envelope(document)
    except InvalidPayload as problem:
        _outcome(services, str(document.get("event", "unknown"))[:64], "invalid", None, field=problem.field)
        raise ApiError(422, str(problem)) from None
    if envelope.event in MESSAGE_EVENTS and services.settings.messages:
        return await accept_message(services, envelope, payload_to_store(document), outcome=_outcome)
    # an AI event of a section the note does not show (CALLBRIDGE_NOTE_AI) is no concern of callbridge's
    wanted = is_call_event(envelope.event) or AI_EVENTS.get(envelope.event) in services.settings.note_ai
    if not wanted or envelope.call_id is None:
        _outcome(services, envelope.event[:64], "ignored", None)
        return JSONResponse({"status": "ignored"})

    call_id = envelope.call_id
    card_event = envelope.event in CARD_EVENTS
    item = event_to_record(envelope, payload_to_store(document), claim_card=card_event)
    # the card is built while the event is written, and sent as soon as the store says it won the call's card
    claim = services.cards.claim(call_id, item.summary["raw_digits"], item.summary.get("agent_email")) \
        if card_event else None
    try:
        # the writer answers the claim even if this request goes away meanwhile: the event is written anyway
        stored = await services.intake.record(
            item, on_written=(lambda recorded: claim.settle(bool(recorded and recorded.card_claimed)))
            if claim else None)
    except IntakeFailed:
        if claim is not None:
            claim.settle(False)  # a no-op once the store answered; refused before it was handed in: lost
        _outcome(services, envelope.event, "not_stored", call_id)
        raise ApiError(503, "the event could not be stored and is not accepted; deliver it again") from None
    if not stored.new:
        _outcome(services, envelope.event, "duplicate", call_id)
        return JSONResponse({"status": "duplicate"})
    _outcome(services, envelope.event, "accepted", call_id)
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
