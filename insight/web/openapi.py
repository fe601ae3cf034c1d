"""`GET /openapi.json`: the HTTP contract of `web` (DESIGN §3) as a hand-written OpenAPI 3.1 document.

Written by hand rather than derived from the handlers, so that it states the contract and a test
(tests/test_openapi.py) fails when a route and its description drift apart.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from insight.web.call_id import MAX_CALL_ID
from insight.web.conversations_openapi import CONVERSATION_PATHS, CONVERSATION_SCHEMAS
from insight.web.openapi_schemas import SCHEMAS, Schema, ref
from insight.web.ops_json import CALL_TYPES, DIRECTIONS, MAX_PAGE_SIZE
from insight.web.setup_openapi import SETUP_PATHS, SETUP_SCHEMAS

API_VERSION = "1.0.0"
CALL_ID = {"type": "integer", "minimum": 0, "maximum": MAX_CALL_ID}

_ERRORS: dict[str, tuple[str, str]] = {
    "400": ("BadRequest", "the request is malformed: an unparseable phone, a bad parameter, a body that is not JSON"),
    "401": ("Unauthorized", "the API key (or the webhook token) is missing or wrong; nothing was stored"),
    "403": ("Forbidden", "the card link's signature is forged, or the link expired"),
    "404": ("NotFound", "no call with this id has been received from Aircall"),
    "409": ("Conflict", "the call is already synced and unchanged, or a worker is writing it right now"),
    "413": ("PayloadTooLarge", "the body is larger than 1 MiB (with or without Content-Length); nothing was stored"),
    "422": ("InvalidPayload", "JSON, but an invariant of the envelope fails; the detail names the field"),
    "503": ("Unavailable", "Bullhorn could not be reached or refused; try again"),
}


def _error(status: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{_ERRORS[status][0]}"}


def _json(description: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: Schema, *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def _call_id(description: str = "the Aircall call id") -> dict[str, Any]:
    return {"name": "call_id", "in": "path", "required": True, "description": description, "schema": CALL_ID}


def _api(
    summary: str, ok: dict[str, Any], *errors: str, tag: str = "ops", status: str = "200", **extra: Any
) -> dict[str, Any]:
    """An operation behind the bearer API key: 401 always possible."""
    responses = {status: ok, **{code: _error(code) for code in ("401", *errors)}}
    return {"tags": [tag], "summary": summary, "security": [{"apiKey": []}], "responses": responses, **extra}


def _paths() -> dict[str, Any]:
    return {
        "/webhooks/aircall": {
            "post": {
                "tags": ["webhooks"],
                "summary": "Receive an Aircall webhook: verify, store durably, acknowledge",
                "description": "Authenticated by the body's `token`, not a header. Answers only once the event is "
                "committed, and never waits on Bullhorn or Aircall. A redelivery (same event, `data.id` and "
                "`timestamp`) is acknowledged as a duplicate with no second effect.",
                "operationId": "receiveAircallWebhook",
                "security": [],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("WebhookEnvelope")}}},
                "responses": {
                    "200": _json("stored (`accepted`), already stored (`duplicate`) or not a call event (`ignored`)",
                                 ref("WebhookAck")),
                    **{status: _error(status) for status in ("400", "401", "413", "422")},
                    "503": _json("the store could not commit the event: not accepted, Aircall delivers it again",
                                 ref("Error")),
                },
            }
        },
        "/api/insight": {
            "get": _api(
                "The Insight Card of a phone number in any format",
                _json("the card; `matches` is empty when nobody in Bullhorn has the number", ref("Card")),
                "400",
                "503",
                tag="insight",
                operationId="insightForPhone",
                parameters=[
                    _query("phone", "a number in any format; national ones read in CALLBRIDGE_DEFAULT_REGION",
                           {"type": "string", "examples": ["+14155550123", "(415) 555-0123"]}, required=True)
                ],
            )
        },
        "/api/calls/{call_id}/insight": {
            "get": _api(
                "The Insight Card of a call (refresh it during the call)",
                _json("the call's card, with `call_id` and the signed `card_url`", ref("Card")),
                "404",
                "503",
                tag="insight",
                operationId="insightForCall",
                parameters=[_call_id()],
            )
        },
        "/cards/{call_id}": {
            "get": {
                "tags": ["insight"],
                "summary": "The embeddable HTML card of a call, opened through its signed link",
                "description": "The link is the credential: an HMAC over the call id and `exp`. Escaped HTML, no "
                "external assets, a strict Content-Security-Policy, and it reloads itself.",
                "operationId": "cardPage",
                "security": [{"cardSignature": []}],
                "parameters": [
                    _call_id(),
                    _query("exp", "expiry of the link, seconds since the epoch", {"type": "string"}, required=True),
                    _query("sig", "the link's signature", {"type": "string"}, required=True),
                ],
                "responses": {
                    "200": {"description": "the card page", "content": {"text/html": {"schema": {"type": "string"}}}},
                    "403": _error("403"),
                    "404": _error("404"),
                    "503": _error("503"),
                },
            }
        },
        "/api/calls": {
            "get": _api(
                "Recent calls, newest first, with their sync status",
                _json("one page of calls", ref("CallPage")),
                "400",
                operationId="listCalls",
                parameters=[
                    _query("status", "sync states, comma-separated", {"type": "string", "examples": ["failed,dead"]}),
                    _query("direction", "inbound or outbound (empty: either)",
                           {"type": "string", "enum": ["", *DIRECTIONS]}),
                    _query("type", "the call type (empty: every type)", {"type": "string", "enum": ["", *CALL_TYPES]}),
                    _query("agent", "the agent's e-mail", {"type": "string"}),
                    _query("since", "calls started at or after (ISO 8601)", {"type": "string", "format": "date-time"}),
                    _query("until", "calls started before (ISO 8601)", {"type": "string", "format": "date-time"}),
                    _query("limit", "page size", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
                    _query("cursor", "`next_cursor` of the previous page", {"type": "string"}),
                ],
            )
        },
        "/api/calls/{call_id}": {
            "get": _api(
                "One call: events received, match, note, every attempt with its explanation",
                _json("the call", ref("CallDetail")),
                "404",
                operationId="getCall",
                parameters=[_call_id()],
            )
        },
        "/api/calls/{call_id}/retry": {
            "post": _api(
                "Queue a call again, re-matching its caller first",
                _json("queued; the next worker re-matches the caller and writes the note", ref("Requeued")),
                "404",
                "409",
                status="202",
                operationId="retryCall",
                parameters=[_call_id()],
            )
        },
        "/api/backfill": {
            "post": _api(
                "Take in the calls Aircall listed in a range that the webhooks missed (runs in the background)",
                _json("the run started; follow it at /api/backfill/{job}", ref("BackfillStarted")),
                "400",
                status="202",
                operationId="startBackfill",
                requestBody={"required": True, "content": {"application/json": {"schema": ref("BackfillRequest")}}},
            )
        },
        "/api/backfill/{job}": {
            "get": _api(
                "One backfill run: its state and how many calls it listed, took in, found known",
                _json("the run", ref("BackfillJob")),
                "404",
                operationId="getBackfill",
                parameters=[{"name": "job", "in": "path", "required": True, "description": "the job id",
                             "schema": {"type": "string"}}],
            )
        },
        "/api/tags": {
            "get": _api(
                "Every Aircall tag seen, with the Bullhorn action it becomes or why it does not fit",
                _json("Bullhorn's actions and the tags seen", ref("Tags")),
                "400",
                "503",
                operationId="listTags",
                parameters=[_query("days", "calls first seen this many days back (default 30, at most 366)",
                                   {"type": "integer", "minimum": 1, "maximum": 366})],
            )
        },
        "/api/health": {
            "get": _api(
                "Readiness with its details: the store's dialect, the Bullhorn session and the last failed login",
                _json("the checks", ref("HealthReport")),
                operationId="healthReport",
            )
        },
        "/api/summary": {
            "get": _api(
                "Counts per sync state, queue depth, sync latency and an hourly timeline",
                _json("the figures", ref("Summary")),
                "400",
                operationId="summary",
                parameters=[_query("hours", "the window, in hours", {"type": "integer", "minimum": 1, "maximum": 168})],
            )
        },
        "/healthz": {"get": _open("Liveness: the process answers", _json("alive", ref("Health")), "healthz")},
        "/readyz": {
            "get": {
                **_open("Readiness: the store answers, the Bullhorn session is not known broken (never logs in)",
                        _json("ready", ref("Readiness")), "readyz"),
                "responses": {"200": _json("ready", ref("Readiness")), "503": _json("not ready", ref("Readiness"))},
            }
        },
        "/metrics": {
            "get": _open(
                "Prometheus metrics: webhooks, lookup latency, cache hits, cards, queue depth, sync outcomes",
                {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}},
                "metrics",
            )
        },
        "/openapi.json": {
            "get": _open(
                "This document",
                {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}},
                "openapi",
            )
        },
    }


def _open(summary: str, ok: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return {"tags": ["operations"], "summary": summary, "operationId": operation_id, "security": [],
            "responses": {"200": ok}}


@cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callbridge",
            "version": API_VERSION,
            "summary": "Aircall ↔ Bullhorn: Insight Cards on ring, one Bullhorn Note per call, an ops API",
            "description": "Errors are JSON `{\"error\": \"<code>\", \"detail\": \"<sentence>\"}`. Unknown ids answer "
            "404; an unparseable `phone`, 400; bodies over 1 MiB, 413. Timestamps are ISO 8601 UTC.",
        },
        "tags": [
            {"name": "webhooks", "description": "what Aircall sends"},
            {"name": "insight", "description": "who is calling: card JSON and the embeddable card"},
            {"name": "ops", "description": "calls, their sync status and retries, tags (the console's API)"},
            {"name": "operations", "description": "health, readiness, metrics, this document"},
            {"name": "setup", "description": "the setup doctor's checks and fixes (the console's Setup page)"},
            {"name": "conversations", "description": "SMS conversations logged as notes; a record for an unknown "
             "caller"},
        ],
        "paths": {**_paths(), **SETUP_PATHS, **CONVERSATION_PATHS},
        "components": {
            "schemas": {**SCHEMAS, **SETUP_SCHEMAS, **CONVERSATION_SCHEMAS},
            "responses": {
                name: _json(description, ref("Error")) for name, description in _ERRORS.values()
            },
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "CALLBRIDGE_API_KEY; unset refuses all"},
                "cardSignature": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "sig",
                    "description": "HMAC-SHA256 of the call id and `exp` with CALLBRIDGE_SIGNING_KEY, from `card_url`",
                },
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The document (a copy: callers may change it)."""
    return copy.deepcopy(_document())


async def openapi_json(_request: Request) -> JSONResponse:
    return JSONResponse(_document())
