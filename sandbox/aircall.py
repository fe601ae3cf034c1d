"""A local fake of Aircall's REST API: Basic auth, per-minute rate limit headers, users, numbers,
tags, calls the simulator registered, their AI insights (`GET /v1/calls/{id}/summary` …, as the
simulator registered them), and Insight Cards validated strictly and recorded.

`create_aircall_app()` answers under `/v1/...` like `https://api.aircall.io`; tests and the demo
inspect and steer it under `/_sandbox/...` (same Basic auth, never rate limited or faulted):
`GET cards[?call_id=]`, `GET|POST calls`, `POST insights`, `GET|PATCH config`, `POST reset`,
`POST webhooks/{id}/deactivate`, `GET|POST webhooks/deliveries`, `POST webhooks/{id}/outcomes`. Webhooks,
tag writes and `/v2/users` live in `sandbox.aircall_admin`; what a delivery does, in `sandbox.aircall_deliveries`.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox import aircall_calls
from sandbox import aircall_resources as resources
from sandbox.aircall_admin import TagBook, WebhookRegistry, admin_routes
from sandbox.aircall_deliveries import Deliveries, delivery_routes
from sandbox.aircall_objects import Json
from sandbox.faults import FaultConfig, FaultInjector, FaultMiddleware, path_in_app
from sandbox.readings import ResetUnit, is_reading_value

_INTERNAL_PREFIX = "/_sandbox/"
#: the AI insight endpoints under /v1/calls/{id}/ (reference/aircall-next.md §1)
AI_PATHS = ("summary", "topics", "sentiments", "action_items", "transcription")
_TUNABLE = ("requests_per_minute", "latency_ms", "error_rates", "error_status", "timeout_rates",
            "lost_answer_rates", "timeout_hold_s", "fault_seed", "reset_unit", "webhook_failures_to_deactivate",
            "webhook_deliveries_fail")


@dataclass
class AircallSandboxConfig(FaultConfig):
    """Credentials, the per-minute limit (None = off), plus latency and seeded faults (FaultConfig).

    Fault patterns name endpoints as `"<METHOD> <path after /v1/>"` (`"GET v2/users"` for v2), e.g.
    `{"POST calls/*/insight_cards": 0.2}`; `clock` drives the rate-limit window.
    """

    api_id: str = "demo-api-id"
    api_token: str = "demo-api-token"
    requests_per_minute: int | None = 60
    error_status: int = 503
    #: DESIGN §10: the unit of `X-AircallApi-Reset` (sandbox.readings)
    reset_unit: ResetUnit = "milliseconds"
    #: consecutive failed deliveries after which a webhook is deactivated (reference: 10 or 50)
    webhook_failures_to_deactivate: int = 10
    #: every delivery attempt fails, as while callbridge is unreachable (sandbox.aircall_deliveries)
    webhook_deliveries_fail: bool = False


class MinuteWindow:
    """Aircall's limit: N requests per window of 60 s, reset at a UNIX time the headers announce."""

    def __init__(self) -> None:
        self.started_at: float | None = None
        self.used = 0

    def take(self, limit: int, now: float, unit: ResetUnit) -> tuple[bool, dict[str, str]]:
        if self.started_at is None or now >= self.started_at + 60:
            self.started_at, self.used = now, 0
        allowed = self.used < limit
        if allowed:
            self.used += 1
        return allowed, self.headers(limit, unit)

    def headers(self, limit: int, unit: ResetUnit) -> dict[str, str]:
        reset_s = self.started_at + 60 if self.started_at is not None else 0.0
        reset = math.ceil(reset_s) if unit == "seconds" else math.ceil(reset_s * 1000)
        return {
            "X-AircallApi-Limit": str(limit),
            "X-AircallApi-Remaining": str(max(limit - self.used, 0)),
            "X-AircallApi-Reset": str(reset),
        }


class AircallSandbox:
    """The fake's live state, at `app.state.sandbox`."""

    def __init__(self, config: AircallSandboxConfig) -> None:
        self.config = config
        self.injector = FaultInjector(config)
        self.window = MinuteWindow()
        self.calls: dict[int, Json] = {}
        #: AI insight answers by call id, then REST path (`summary`, `transcription`, …: sandbox.ai_events)
        self.insights: dict[int, dict[str, Json]] = {}
        #: every card accepted, repeats included: {"call_id", "contents", "received_at"}
        self.cards: list[Json] = []
        self.webhooks = WebhookRegistry(lambda: self.config.clock())
        self.deliveries = Deliveries(self.webhooks, config, lambda: self.config.clock())
        self.tag_book = TagBook()

    def reset(self) -> None:
        self.calls.clear()
        self.insights.clear()
        self.cards.clear()
        self.webhooks.clear()
        self.deliveries.reset()
        self.tag_book.reset()
        self.injector.reset()
        self.window = MinuteWindow()

    def authorized(self, headers: Headers) -> bool:
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            api_id, _, api_token = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(api_id, self.config.api_id) & secrets.compare_digest(
            api_token, self.config.api_token
        )

    def config_json(self) -> Json:
        return {name: getattr(self.config, name) for name in ("api_id", "api_token", *_TUNABLE)}


def aircall_error(status: int, error: str, troubleshoot: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "troubleshoot": troubleshoot}, status_code=status, headers=headers)


class _Gate:
    """Basic auth, then the per-minute limit; every /v1 answer carries the X-AircallApi-* headers."""

    def __init__(self, app: ASGIApp, sandbox: AircallSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        limit = sandbox.config.requests_per_minute
        internal = path_in_app(scope).startswith(_INTERNAL_PREFIX)
        rate_headers: dict[str, str] = {}
        if not sandbox.authorized(Headers(scope=scope)):
            if limit is not None and not internal:
                rate_headers = sandbox.window.headers(limit, sandbox.config.reset_unit)
            response = aircall_error(401, "Unauthorized", "Check your API ID and API token (HTTP Basic auth).",
                                     rate_headers)
            await response(scope, receive, send)
            return
        if limit is not None and not internal:
            allowed, rate_headers = sandbox.window.take(limit, sandbox.config.clock(), sandbox.config.reset_unit)
            if not allowed:
                response = aircall_error(429, "Too Many Requests",
                                         f"Rate limit of {limit} requests per minute reached.", rate_headers)
                await response(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and rate_headers:
                MutableHeaders(scope=message).update(rate_headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _endpoint_of(scope: Scope) -> str | None:
    path = path_in_app(scope)
    if path.startswith("/v2/"):
        return f"{scope['method']} {path[1:]}"
    if not path.startswith("/v1/"):
        return None
    return f"{scope['method']} {path[len('/v1/'):]}"


def _sandbox(request: Request) -> AircallSandbox:
    sandbox: AircallSandbox = request.app.state.sandbox
    return sandbox


def _handle_bad_request(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except resources.BadRequest as exc:
            return aircall_error(400, "Bad Request", str(exc))

    return wrapped


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise resources.BadRequest("the body is not valid JSON") from None


async def ping(request: Request) -> Response:
    return JSONResponse({"ping": "pong"})


def _list_and_get(key: str, singular: str, build: Callable[[], list[Json]]) -> list[Route]:
    async def listing(request: Request) -> Response:
        return JSONResponse(resources.paginate(key, build(), request.url))

    async def one(request: Request) -> Response:
        wanted = request.path_params["id"]
        for item in build():
            if item["id"] == wanted:
                return JSONResponse({singular: item})
        return aircall_error(404, "Not found", f"No {singular} with id {wanted}.")

    return [Route(f"/v1/{key}", _handle_bad_request(listing)), Route(f"/v1/{key}/{{id:int}}", one)]


async def get_call(request: Request) -> Response:
    call = _sandbox(request).calls.get(request.path_params["id"])
    if call is None:
        return aircall_error(404, "Not found", f"No call with id {request.path_params['id']}.")
    return JSONResponse({"call": call})


async def get_call_insight(request: Request) -> Response:
    """`GET /v1/calls/{id}/<summary|topics|sentiments|action_items|transcription>`; 404 when there is none."""
    call_id, path = request.path_params["id"], request.url.path.rsplit("/", 1)[-1]
    answer = _sandbox(request).insights.get(call_id, {}).get(path)
    if answer is None:
        return aircall_error(404, "Not found", f"No {path} for call {call_id}: AI insights need the AI add-on and "
                                               "a conversation.")
    return JSONResponse(answer)


@_handle_bad_request
async def register_insights(request: Request) -> Response:
    """`POST /_sandbox/insights {"call_id", "answers": {path: body}}`: what the AI endpoints answer for a call."""
    body = await _json_body(request)
    call_id = body.get("call_id") if isinstance(body, dict) else None
    answers = body.get("answers") if isinstance(body, dict) else None
    if not isinstance(call_id, int) or isinstance(call_id, bool) or not isinstance(answers, dict):
        raise resources.BadRequest('the body must be {"call_id": <int>, "answers": {<path>: <body>}}')
    unknown = sorted(set(answers) - set(AI_PATHS))
    if unknown:
        raise resources.BadRequest(f"{unknown[0]} is not an AI path (one of {', '.join(AI_PATHS)})")
    _sandbox(request).insights.setdefault(call_id, {}).update(answers)
    return JSONResponse({"call_id": call_id, "paths": sorted(answers)}, status_code=201)


@_handle_bad_request
async def post_insight_card(request: Request) -> Response:
    sandbox = _sandbox(request)
    call_id: int = request.path_params["id"]
    if call_id not in sandbox.calls:
        return aircall_error(404, "Not found", f"No call with id {call_id}.")
    contents = resources.validate_card(await _json_body(request))
    sandbox.cards.append({"call_id": call_id, "contents": contents, "received_at": sandbox.config.clock()})
    return JSONResponse({}, status_code=201)


async def list_cards(request: Request) -> Response:
    cards = _sandbox(request).cards
    wanted = request.query_params.get("call_id")
    if wanted is not None:
        cards = [card for card in cards if str(card["call_id"]) == wanted]
    return JSONResponse({"cards": cards})


async def list_calls(request: Request) -> Response:
    return JSONResponse({"calls": list(_sandbox(request).calls.values())})


@_handle_bad_request
async def list_calls_v1(request: Request) -> Response:
    return JSONResponse(aircall_calls.list_calls(_sandbox(request).calls.values(), request.url))


@_handle_bad_request
async def register_call(request: Request) -> Response:
    body = await _json_body(request)
    call = body.get("call", body) if isinstance(body, dict) else None
    if not isinstance(call, dict) or not isinstance(call.get("id"), int) or isinstance(call.get("id"), bool):
        raise resources.BadRequest("the body must be a Call object (or {\"call\": {...}}) with an integer id")
    _sandbox(request).calls[call["id"]] = call
    return JSONResponse({"call": call}, status_code=201)


@_handle_bad_request
async def config_endpoint(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "PATCH":
        changes = await _json_body(request)
        if not isinstance(changes, dict):
            raise resources.BadRequest("the body must be a JSON object of settings")
        for name, value in changes.items():
            if name not in _TUNABLE:
                raise resources.BadRequest(f"{name} cannot be changed (tunable: {', '.join(_TUNABLE)})")
            _check_setting(name, value)
        for name, value in changes.items():
            setattr(sandbox.config, name, value)
        if "fault_seed" in changes:
            sandbox.injector.reset()
    return JSONResponse(sandbox.config_json())


async def reset(request: Request) -> Response:
    _sandbox(request).reset()
    return JSONResponse({"status": "reset"})


def _check_setting(name: str, value: Any) -> None:
    expected = {field.name: field.type for field in fields(AircallSandboxConfig)}[name]
    if name.endswith("_rates"):
        ok = isinstance(value, dict) and all(isinstance(v, int | float) and 0 <= v <= 1 for v in value.values())
    elif name == "requests_per_minute":
        ok = value is None or (isinstance(value, int) and value > 0)
    elif name == "reset_unit":
        ok = is_reading_value(name, value)
    elif name == "error_status":
        ok = isinstance(value, int) and 400 <= value <= 599
    elif name == "webhook_deliveries_fail":
        ok = isinstance(value, bool)
    elif name == "webhook_failures_to_deactivate":
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    if not ok:
        raise resources.BadRequest(f"{name} has the wrong type or range (expected {expected})")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = "Not found" if exc.status_code == 404 else HTTPStatus(exc.status_code).phrase
    return aircall_error(exc.status_code, error, str(exc.detail), dict(exc.headers or {}))


def create_aircall_app(config: AircallSandboxConfig | None = None) -> Starlette:
    """The Aircall fake; its state (calls, cards, config) is `app.state.sandbox`."""
    sandbox = AircallSandbox(config or AircallSandboxConfig())
    routes = [
        Route("/v1/ping", ping),
        *_list_and_get("users", "user", resources.users),
        *_list_and_get("numbers", "number", resources.numbers),
        *_list_and_get("tags", "tag", lambda: list(sandbox.tag_book.tags.values())),
        *admin_routes(sandbox.webhooks, sandbox.tag_book),
        *delivery_routes(sandbox.deliveries),
        Route("/v1/calls", list_calls_v1),
        Route("/v1/calls/{id:int}", get_call),
        Route("/v1/calls/{id:int}/insight_cards", post_insight_card, methods=["POST"]),
        *(Route(f"/v1/calls/{{id:int}}/{path}", get_call_insight) for path in AI_PATHS),
        Route("/_sandbox/insights", register_insights, methods=["POST"]),
        Route("/_sandbox/cards", list_cards),
        Route("/_sandbox/calls", list_calls, methods=["GET"]),
        Route("/_sandbox/calls", register_call, methods=["POST"]),
        Route("/_sandbox/config", config_endpoint, methods=["GET", "PATCH"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.sandbox = sandbox
    app.add_middleware(
        FaultMiddleware,
        injector=lambda: sandbox.injector,
        endpoint_of=_endpoint_of,
        error_response=lambda status, message: aircall_error(status, "Service Unavailable" if status == 503
                                                             else "Error", message),
        rate_limited_response=lambda: aircall_error(429, "Too Many Requests", "Rate limit reached."),
    )
    app.add_middleware(_Gate, sandbox=sandbox)
    return app
