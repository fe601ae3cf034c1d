"""Bodies over 1 MiB answer 413 on every route, with or without Content-Length (DESIGN §3).

A declared length over the limit is refused before any handler runs. A chunked body is counted as
the handler reads it and the read fails with 413 past the limit, so no handler ever holds more.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from insight.web.api_errors import ApiError, error_response

MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                # a malformed length is refused too: the server could not frame the body safely anyway
                status = 413 if value.isdigit() else 400
                response = error_response(status, "payload_too_large" if status == 413 else "bad_request",
                                          self._detail() if status == 413 else "the Content-Length is not a number")
                await response(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise ApiError(413, self._detail())
            return message

        await self.app(scope, limited, send)

    def _detail(self) -> str:
        return f"the body is larger than {self.limit // 1024} KiB"
