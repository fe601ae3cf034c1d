"""`message.received` / `message.sent` at the webhook: read, store with its conversation, acknowledge.

As for call events, the answer waits only for the store: the worker writes the conversation's note
(`insight.worker.messages`). A message that lacks what a note needs (its id, its line, the
customer's number) is a 422 naming the field; a redelivery answers "duplicate" and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Protocol

import anyio.to_thread
from starlette.responses import JSONResponse

from insight.domain.aircall_events import Envelope, InvalidPayload
from insight.domain.conversations import read_message
from insight.store.conversations import record_message
from insight.web.api_errors import ApiError
from insight.web.services import Services

log = logging.getLogger("callbridge.webhooks")


class Outcome(Protocol):
    def __call__(self, services: Services, event: str, outcome: str, call_id: int | None, **extra: str) -> None: ...


async def accept_message(services: Services, envelope: Envelope, payload: str, *, outcome: Outcome) -> JSONResponse:
    try:
        message = read_message(envelope, default_region=services.settings.default_region)
    except InvalidPayload as problem:
        outcome(services, envelope.event, "invalid", None, field=problem.field)
        raise ApiError(422, str(problem)) from None
    engine = services.store.engine
    try:
        new = await anyio.to_thread.run_sync(lambda: record_message(engine, message, payload))
    except Exception:
        log.exception("message %s could not be stored", message.dedupe_key)
        outcome(services, envelope.event, "not_stored", None)
        raise ApiError(503, "the event could not be stored and is not accepted; deliver it again") from None
    outcome(services, envelope.event, "accepted" if new else "duplicate", None)
    return JSONResponse({"status": "accepted" if new else "duplicate"})
