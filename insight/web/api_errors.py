"""The one JSON error shape of the HTTP contract: {"error": "<code>", "detail": "<sentence>"}.

Handlers raise `ApiError`; everything else that escapes becomes a 500 with no internals leaked.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

log = logging.getLogger("callbridge.web")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_payload",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(self, status_code: int, detail: str, *, error: str | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error or _CODES.get(status_code, "error")
        self.detail = detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, error={self.error!r}, detail={self.detail!r})"


def error_response(status_code: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status_code, headers=headers)


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.error, exc.detail)


async def _http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    if exc.status_code == 404:
        detail = "no such resource"
    elif exc.status_code == 405:
        detail = "method not allowed on this resource"
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, _CODES.get(exc.status_code, "error"), detail, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "the service failed to handle this request; it has been logged")


EXCEPTION_HANDLERS: dict[object, ExceptionHandler] = {
    ApiError: _api_error,
    HTTPException: _http_exception,
    Exception: _unexpected,
}
