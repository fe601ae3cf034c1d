"""Every request body is bounded in size, in time and, for webhooks, in bytes held at once (DESIGN §3, §14).

- Bodies over 1 MiB answer 413, with or without Content-Length: a declared length over the limit is
  refused before any handler runs, a chunked body is counted as the handler reads it.
- A body that has not fully arrived `deadline_s` after the request started answers 408: uvicorn, as
  `web` runs it, has no body-read timeout, so a client that stalls mid-body would otherwise hold its
  connection and buffers for ever.
- The bytes of bodies being received on budgeted paths (the webhook, which must read its whole body
  before it can check the token inside) share one budget: a chunk beyond it answers 503 at once, so
  stalled senders cannot grow memory without bound, and Aircall redelivers what was refused.

A refusal closes the connection (`Connection: close`): the rest of that body is never read.
"""

from __future__ import annotations

from collections.abc import Collection

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from insight.web.api_errors import error_response

MAX_BODY_BYTES = 1024 * 1024


class BodyRefused(Exception):
    """Raised from `receive`: the body breaks a bound, and the middleware answers for the handler."""

    def __init__(self, status_code: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error
        self.detail = detail


class ByteBudget:
    """Bytes that concurrent requests may hold; one event loop, so plain arithmetic is atomic."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.capacity:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        self.held -= size


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        deadline_s: float,
        budget_bytes: int,
        budgeted_paths: Collection[str],
        limit: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.limit = limit
        self.deadline_s = deadline_s
        self.budgeted_paths = frozenset(budgeted_paths)
        self.budget = ByteBudget(budget_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                # a malformed length is refused too: the server could not frame the body safely anyway
                refusal = (
                    BodyRefused(413, "payload_too_large", self._too_large())
                    if value.isdigit()
                    else BodyRefused(400, "bad_request", "the Content-Length is not a number")
                )
                await _refuse(refusal, scope, receive, send)
                return
        deadline = anyio.current_time() + self.deadline_s
        budget = self.budget if scope["path"] in self.budgeted_paths else None
        received = 0
        held = 0
        body_done = False
        response_started = False

        async def guarded_receive() -> Message:
            nonlocal received, held, body_done
            if body_done:  # later reads only wait for the disconnect, which has no deadline
                return await receive()
            message: Message | None = None
            with anyio.move_on_after(max(deadline - anyio.current_time(), 0)):
                message = await receive()
            if message is None:
                raise BodyRefused(408, "request_timeout", f"the body did not arrive within {self.deadline_s:g} s")
            if message["type"] != "http.request":
                body_done = True
                return message
            size = len(message.get("body", b""))
            received += size
            if received > self.limit:
                raise BodyRefused(413, "payload_too_large", self._too_large())
            if budget is not None:
                if not budget.take(size):
                    raise BodyRefused(503, "busy", "too many webhook bodies are arriving at once; deliver it again")
                held += size
            body_done = not message.get("more_body", False)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracked_send)
        except BodyRefused as refusal:
            if response_started:
                raise
            await _refuse(refusal, scope, receive, send)
        finally:
            if budget is not None:
                budget.give(held)

    def _too_large(self) -> str:
        return f"the body is larger than {self.limit // 1024} KiB"


async def _refuse(refusal: BodyRefused, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(refusal.status_code, refusal.error, refusal.detail, headers={"Connection": "close"})
    await response(scope, receive, send)
