"""Bullhorn's error bodies: `{"errorMessage","errorMessageKey","errorCode","errors","entityName"}`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

INVALID_REST_TOKEN = "Bad 'BhRestToken' or timed-out."
RATE_LIMITED = "Rate Limited -- Wait 1 second then retry request."


class BullhornError(Exception):
    def __init__(
        self,
        status_code: int,
        message: str,
        key: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        entity_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.key = key
        self.errors = errors
        self.entity_name = entity_name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r})"

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"errorMessage": self.message}
        if self.key is not None:
            body["errorMessageKey"] = self.key
        body["errorCode"] = self.status_code
        if self.errors is not None:
            body["errors"] = self.errors
        if self.entity_name is not None:
            body["entityName"] = self.entity_name
        return body

    def response(self) -> Response:
        return JSONResponse(self.body(), status_code=self.status_code)


def property_error(property_name: str | None, error_type: str) -> dict[str, Any]:
    return {"propertyName": property_name, "severity": "ERROR", "type": error_type}


def cannot_persist(entity: str, status_code: int, errors: list[dict[str, Any]]) -> BullhornError:
    return BullhornError(
        status_code,
        f"error persisting an entity of type: {entity}",
        "errors.cannotPersistEntity",
        errors=errors,
        entity_name=entity,
    )


def invalid_rest_token() -> BullhornError:
    return BullhornError(401, INVALID_REST_TOKEN, "errors.authentication.invalidRestToken")


def error_response(status_code: int, message: str) -> Response:
    return BullhornError(status_code, message).response()


def rate_limited_response() -> Response:
    return JSONResponse({"errorMessage": RATE_LIMITED, "errorCode": 429}, status_code=429,
                        headers={"Retry-After": "1"})


async def handle_bullhorn_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BullhornError)
    return exc.response()
