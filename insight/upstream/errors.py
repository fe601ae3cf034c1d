"""What can go wrong talking to Bullhorn or Aircall, and how to say it in plain words.

Our exception hierarchy (every class carries `status_code`; the message is the explanation):

* UpstreamError
  + UpstreamUnavailable - transport error, timeout, 429, 5xx: retry later (`retry_after_s`)
  | + SessionExpiredDuringWrite - 401 on a write: the session was renewed, the write NOT resent
  + UpstreamRejected - other 4xx and Bullhorn refusals: a person must act (`error_key`, `body`)
    + AuthenticationFailed - the API refuses our credentials

`explain()` and `explain_aircall()` turn a status and a body into the sentence the ops console shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

__all__ = [
    "AuthenticationFailed",
    "SessionExpiredDuringWrite",
    "UpstreamError",
    "UpstreamRejected",
    "UpstreamUnavailable",
    "body_of",
    "error_key_of",
    "explain",
    "explain_aircall",
]

Body = Mapping[str, Any] | str | None

_MAX_DETAIL_CHARS = 200
_CHECK_CREDENTIALS = "check BULLHORN_USERNAME, BULLHORN_PASSWORD, BULLHORN_CLIENT_ID and BULLHORN_CLIENT_SECRET"


class UpstreamError(Exception):
    """Base class: an upstream call did not give us what we asked for."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code

    @property
    def explanation(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status_code={self.status_code!r})"


class UpstreamUnavailable(UpstreamError):
    """Retry later: the upstream is down, slow or rate limiting; nothing is wrong with the request."""

    def __init__(self, message: str, *, status_code: int | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after_s = retry_after_s


class SessionExpiredDuringWrite(UpstreamUnavailable):
    """A non-idempotent request met an expired session; a new one exists, the request was not resent.

    The caller runs its idempotency check (DESIGN §5) and writes again if the write is missing.
    """


class UpstreamRejected(UpstreamError):
    """The upstream refused the request; retrying the same request will fail the same way."""

    def __init__(
        self, message: str, *, status_code: int | None = None, error_key: str | None = None, body: Body = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.error_key = error_key
        self.body = body


class AuthenticationFailed(UpstreamRejected):
    """Our credentials are refused; the message names the setting to check."""


def body_of(response: httpx.Response) -> Mapping[str, Any] | str:
    """An error answer's JSON object, or the start of its text when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    return body if isinstance(body, Mapping) else response.text[:500]


def error_key_of(body: Body) -> str | None:
    """The most specific key of an error body: an `errors[].type` (DUPLICATE_VALUE), else the message key."""
    if not isinstance(body, Mapping):
        return None
    for error in _field_errors(body):
        if isinstance(error.get("type"), str):
            return str(error["type"])
    for key in ("errorMessageKey", "error"):
        if isinstance(body.get(key), str):
            return str(body[key])
    return None


def explain(status_code: int | None, body: Body, *, operation: str) -> str:
    """Say in plain words why Bullhorn did not do `operation` ("note update", "candidate search")."""
    detail = _detail(body)
    if status_code is None:
        return _no_answer("Bullhorn", operation, detail)
    refused = f"Bullhorn refused the {operation}"
    if status_code == 400:
        fields = _field_summary(body)
        if fields:
            return f"{refused}: {fields}"
        return f"{refused}: the request was invalid ({detail or 'no detail given'})"
    if status_code == 401:
        if error_key_of(body) == "errors.authentication.invalidRestToken":
            return (f"{refused}: the Bullhorn session had expired (callbridge logs in again by itself; "
                    f"if this repeats, {_CHECK_CREDENTIALS})")
        return f"{refused}: the session or the API credentials were not accepted ({_CHECK_CREDENTIALS})"
    if status_code == 403:
        if "note" in operation.lower():
            return (f"{refused}: the API user lacks edit rights on notes "
                    "(ask a Bullhorn admin to grant create and edit on Notes)")
        entity = _entity_name(body)
        return (f"{refused}: the API user lacks the rights it needs ({detail or 'forbidden'}) "
                f"(ask a Bullhorn admin to grant the API user access to {entity or 'these records'})")
    if status_code == 404:
        return f"{refused}: the record, entity or field does not exist ({detail or 'not found'})"
    if status_code == 412:
        return f"{refused}: no session token was sent (a callbridge bug, please report it)"
    if status_code == 429:
        return f"Bullhorn rate limited the {operation} (too many requests); it will be retried after a pause"
    if error_key_of(body) == "DUPLICATE_VALUE":
        entity = _entity_name(body) or "the association"
        return (f"{refused}: the link already exists (DUPLICATE_VALUE on {entity}); Bullhorn made it itself "
                "when the note was created, so nothing is missing")
    if status_code >= 500:
        what = "is in maintenance" if status_code == 503 else f"failed (HTTP {status_code})"
        suffix = f": {detail}" if detail else ""
        return f"Bullhorn is unavailable for the {operation}: it {what}{suffix}; it will be retried automatically"
    return f"{refused} with HTTP {status_code}{f': {detail}' if detail else ''}"


def explain_aircall(status_code: int | None, body: Body, *, operation: str) -> str:
    """Say in plain words why Aircall did not do `operation` ("insight card push", "call fetch")."""
    detail = _detail(body)
    if isinstance(body, Mapping) and isinstance(body.get("troubleshoot"), str) and body.get("error"):
        detail = _shorten(f"{body['error']}: {body['troubleshoot']}")
    if status_code is None:
        return _no_answer("Aircall", operation, detail)
    refused = f"Aircall refused the {operation}"
    if status_code in (401, 403):
        return (f"{refused}: the API id or token is wrong or was revoked "
                "(check AIRCALL_API_ID and AIRCALL_API_TOKEN, or create a new key under Integrations & API)")
    if status_code == 404:
        what = "call" if "call" in operation.lower() or "card" in operation.lower() else "resource"
        return (f"{refused}: Aircall does not know this {what} (it may belong to another company "
                "or be older than Aircall keeps)")
    if status_code in (400, 422):
        return f"{refused}: the request was not accepted ({detail or 'no detail given'})"
    if status_code == 429:
        return f"Aircall rate limited the {operation} (too many requests); it will be retried after a pause"
    if status_code >= 500:
        return f"Aircall is unavailable for the {operation} (HTTP {status_code}); it will be retried automatically"
    return f"{refused} with HTTP {status_code}{f': {detail}' if detail else ''}"


def _no_answer(upstream: str, operation: str, detail: str) -> str:
    reason = f" ({detail})" if detail else ""
    if "timeout" in detail.lower():
        # A request that timed out may still have been applied: say so, the retry checks first.
        return (f"{upstream} did not answer the {operation} in time{reason}; it may or may not have been applied "
                "and will be retried automatically")
    return f"{upstream} could not be reached for the {operation}{reason}; it will be retried automatically"


def _field_errors(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    return [error for error in errors if isinstance(error, Mapping)]


def _field_summary(body: Body) -> str:
    if not isinstance(body, Mapping):
        return ""
    parts = []
    for error in _field_errors(body):
        name = error.get("propertyName")
        kind = str(error.get("type") or "invalid").replace("_", " ").lower()
        if name == "action":
            parts.append(f"the field 'action' was rejected ({kind}; an action holds at most 30 characters "
                         "and should be one of Bullhorn's commentActionList)")
        elif name:
            parts.append(f"the field '{name}' was rejected ({kind})")
        else:
            parts.append(kind)
    return "; ".join(parts)


def _entity_name(body: Body) -> str | None:
    if isinstance(body, Mapping) and isinstance(body.get("entityName"), str):
        return str(body["entityName"])
    return None


def _detail(body: Body) -> str:
    if isinstance(body, Mapping):
        for key in ("errorMessage", "message", "error_description", "troubleshoot", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return _shorten(value)
        return ""
    return _shorten(body) if body else ""


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL_CHARS else text[: _MAX_DETAIL_CHARS - 1] + "…"
