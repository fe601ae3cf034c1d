"""The Aircall fake's account administration: webhooks, tags (create, update, delete) and `/v2/users`.

Behaviour follows reference/aircall-next.md §3, §5, §6: a webhook's `token` is returned on create
and by `GET /v1/webhooks/:id` (the list leaves it out); an omitted or empty `events` subscribes to
every event, on create and on update alike (unless `?events_action=add|remove` edits the list);
URLs must be HTTPS, except loopback and `.test` hosts, which the fake allows so the demo and tests
can register themselves. Tags are `{id, direct_link, name, color, description}`; emojis are removed.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.aircall_objects import API_BASE, Json
from sandbox.aircall_resources import BadRequest, paginate, tags, users

CALL_EVENTS = tuple(f"call.{name}" for name in (
    "created", "ringing_on_agent", "agent_declined", "answered", "transferred", "external_transferred",
    "unsuccessful_transfer", "hungup", "ended", "hold", "unhold", "ivr_option_selected", "comm_assets_generated",
    "voicemail_left", "assigned", "archived", "tagged", "untagged", "commented"))
_USER_EVENTS = ("created", "deleted", "connected", "disconnected", "opened", "closed", "wut_start", "wut_end")
#: the 67 events Aircall lists (hookdeck's count)
ALL_EVENTS: tuple[str, ...] = (
    *CALL_EVENTS,
    *(f"user.{name}.v2" for name in _USER_EVENTS), *(f"user.{name}" for name in _USER_EVENTS),
    *(f"number.{name}" for name in ("created", "opened", "closed", "deleted")),
    *(f"contact.{name}" for name in ("created", "updated", "deleted")),
    *(f"{kind}.{name}" for kind in ("message", "group_message") for name in ("sent", "received", "status_updated")),
    "transcription.created", "summary.created", "custom_summary.result_created", "custom_summary.result_updated",
    "sentiment.created", "topics.created", "action_item.created", "playbook_result.created",
    "playbook_result.updated", "call_evaluation.created", "call_evaluation.updated",
    "realtime_transcription.utterances_received",
    *(f"ai_voice_agent.{name}" for name in ("started", "ended", "escalated", "summary")),
    "analytics.report_created", "analytics.report_failed", "integration.deleted",
)
MAX_WEBHOOKS = 100
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# Emoji and pictograph blocks: Aircall strips them from tag attributes.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")


class WebhookRegistry:
    """The company's webhooks, by `webhook_id` (a UUID)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.webhooks: dict[str, Json] = {}
        #: consecutive failed deliveries, and when a webhook was deactivated for them (sandbox.aircall_deliveries)
        self.failures: dict[str, int] = {}
        self.disabled_at: dict[str, float] = {}

    def clear(self) -> None:
        self.webhooks.clear()
        self.failures.clear()
        self.disabled_at.clear()

    def deactivate(self, webhook: Json) -> None:
        """What Aircall does after repeated failed deliveries; its retries may still re-enable it for 12 h."""
        webhook["active"] = False
        self.disabled_at[str(webhook["webhook_id"])] = self._clock()

    def add(self, *, url: str, events: list[str] | None = None, custom_name: str = "", active: bool = True,
            token: str | None = None) -> Json:
        """Register one as the Dashboard would (also the seam tests and the demo use)."""
        webhook_id = str(uuid.uuid4())
        created = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.webhooks[webhook_id] = {
            "webhook_id": webhook_id, "direct_link": f"{API_BASE}/webhooks/{webhook_id}", "created_at": created,
            "custom_name": custom_name, "url": url, "active": active, "events": list(events or ALL_EVENTS),
            "token": token or secrets.token_hex(16),
        }
        return self.webhooks[webhook_id]

    def create(self, body: Any) -> Json:
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object with url and events")
        if len(self.webhooks) >= MAX_WEBHOOKS:
            raise BadRequest(f"a company can have at most {MAX_WEBHOOKS} webhooks")
        return self.add(url=_url(body.get("url")), events=_events(body.get("events")),
                        custom_name=_text(body.get("custom_name"), "custom_name"))

    def update(self, webhook: Json, body: Any, events_action: str | None) -> Json:
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        changes: Json = {}
        if "url" in body:
            changes["url"] = _url(body["url"])
        if "custom_name" in body:
            changes["custom_name"] = _text(body["custom_name"], "custom_name")
        if "active" in body:
            if not isinstance(body["active"], bool):
                raise BadRequest("active must be true or false")
            changes["active"] = body["active"]
        listed = _events(body.get("events"))
        if events_action is None:
            # An update without events resets the webhook to every event (reference §3).
            changes["events"] = listed or list(ALL_EVENTS)
        elif events_action == "add":
            changes["events"] = [*webhook["events"], *(e for e in listed or [] if e not in webhook["events"])]
        elif events_action == "remove":
            changes["events"] = [event for event in webhook["events"] if event not in (listed or [])]
        else:
            raise BadRequest("events_action must be add or remove")
        if changes.get("active") is True:
            # re-enabled by hand: failures count afresh
            self.failures.pop(str(webhook["webhook_id"]), None)
            self.disabled_at.pop(str(webhook["webhook_id"]), None)
        webhook.update(changes)
        return webhook


class TagBook:
    """The company's tags, starting from the demo tenant's."""

    def __init__(self) -> None:
        self.tags: dict[int, Json] = {}
        self.reset()

    def reset(self) -> None:
        self.tags = {tag["id"]: tag for tag in tags()}

    def create(self, body: Any) -> Json:
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object with name and color")
        tag_id = max(self.tags, default=1022900) + 1
        tag = {"id": tag_id, "direct_link": f"{API_BASE}/tags/{tag_id}", "name": _tag_name(body.get("name")),
               "color": _color(body.get("color")), "description": _description(body.get("description"))}
        self.tags[tag_id] = tag
        return tag

    def update(self, tag: Json, body: Any) -> Json:
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        changes: Json = {}
        if "name" in body:
            changes["name"] = _tag_name(body["name"])
        if "color" in body:
            changes["color"] = _color(body["color"])
        if "description" in body:
            changes["description"] = _description(body["description"])
        tag.update(changes)
        return tag


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest("url is required")
    parts = urlsplit(value)
    host = parts.hostname or ""
    local = host in ("localhost", "127.0.0.1", "::1") or host.endswith(".test")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise BadRequest("url must be an HTTPS URL")
    return value


def _events(value: Any) -> list[str] | None:
    if value is None or value == []:
        return None
    if not isinstance(value, list) or not all(isinstance(event, str) for event in value):
        raise BadRequest("events must be a list of event names")
    unknown = [event for event in value if event not in ALL_EVENTS]
    if unknown:
        raise BadRequest(f"invalid events: {', '.join(unknown)}")
    return list(dict.fromkeys(value))


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def _tag_name(value: Any) -> str:
    name = _EMOJI.sub("", value).strip() if isinstance(value, str) else ""
    if not name:
        raise BadRequest("name must be a non-empty string")
    return name


def _color(value: Any) -> str:
    if not isinstance(value, str) or not _COLOR.match(value):
        raise BadRequest("color must be a hexadecimal colour such as #0033CC")
    return value.upper()


def _description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest("description must be a string")
    return _EMOJI.sub("", value)


def _error(status: int, error: str, troubleshoot: str) -> JSONResponse:
    return JSONResponse({"error": error, "troubleshoot": troubleshoot}, status_code=status)


def _bad_requests(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except BadRequest as exc:
            return _error(400, "Bad Request", str(exc))

    return wrapped


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None


def _without_token(webhook: Mapping[str, Any]) -> Json:
    return {key: value for key, value in webhook.items() if key != "token"}


def admin_routes(webhooks: WebhookRegistry, book: TagBook) -> list[Route]:
    """Routes under `/v1/webhooks`, `/v1/tags` (writes) and `/v2/users`, over the given state."""

    def webhook_of(request: Request) -> Json | None:
        return webhooks.webhooks.get(request.path_params["webhook_id"])

    def no_webhook(request: Request) -> JSONResponse:
        return _error(404, "Not found", f"No webhook with id {request.path_params['webhook_id']}.")

    @_bad_requests
    async def list_webhooks(request: Request) -> Response:
        listed = [_without_token(webhook) for webhook in webhooks.webhooks.values()]
        return JSONResponse(paginate("webhooks", listed, request.url))

    @_bad_requests
    async def create_webhook(request: Request) -> Response:
        return JSONResponse({"webhook": webhooks.create(await _body(request))}, status_code=201)

    async def get_webhook(request: Request) -> Response:
        webhook = webhook_of(request)
        return no_webhook(request) if webhook is None else JSONResponse({"webhook": webhook})

    @_bad_requests
    async def update_webhook(request: Request) -> Response:
        webhook = webhook_of(request)
        if webhook is None:
            return no_webhook(request)
        updated = webhooks.update(webhook, await _body(request), request.query_params.get("events_action"))
        return JSONResponse({"webhook": updated})

    async def delete_webhook(request: Request) -> Response:
        if webhooks.webhooks.pop(request.path_params["webhook_id"], None) is None:
            return no_webhook(request)
        webhooks.failures.pop(request.path_params["webhook_id"], None)
        webhooks.disabled_at.pop(request.path_params["webhook_id"], None)
        return Response(status_code=204)

    async def deactivate_webhook(request: Request) -> Response:
        """What Aircall does after repeated failed deliveries (a `/_sandbox/` seam)."""
        webhook = webhook_of(request)
        if webhook is None:
            return no_webhook(request)
        webhooks.deactivate(webhook)
        return JSONResponse({"webhook": webhook})

    def tag_of(request: Request) -> Json | None:
        return book.tags.get(request.path_params["id"])

    def no_tag(request: Request) -> JSONResponse:
        return _error(404, "Not found", f"No tag with id {request.path_params['id']}.")

    @_bad_requests
    async def create_tag(request: Request) -> Response:
        return JSONResponse({"tag": book.create(await _body(request))}, status_code=201)

    @_bad_requests
    async def update_tag(request: Request) -> Response:
        tag = tag_of(request)
        return no_tag(request) if tag is None else JSONResponse({"tag": book.update(tag, await _body(request))})

    async def delete_tag(request: Request) -> Response:
        if book.tags.pop(request.path_params["id"], None) is None:
            return no_tag(request)
        return Response(status_code=204)

    @_bad_requests
    async def list_users_v2(request: Request) -> Response:
        return JSONResponse(paginate("users", users(), request.url))

    async def get_user_v2(request: Request) -> Response:
        wanted = request.path_params["id_or_email"]
        for user in users():
            if str(user["id"]) == wanted or str(user["email"]).casefold() == wanted.casefold():
                return JSONResponse({"user": user})
        return _error(404, "Not found", f"No user {wanted}.")

    one = "/v1/webhooks/{webhook_id}"
    return [
        Route("/v1/webhooks", list_webhooks, methods=["GET"]),
        Route("/v1/webhooks", create_webhook, methods=["POST"]),
        Route(one, get_webhook, methods=["GET"]),
        Route(one, update_webhook, methods=["PUT"]),
        Route(one, delete_webhook, methods=["DELETE"]),
        Route("/_sandbox/webhooks/{webhook_id}/deactivate", deactivate_webhook, methods=["POST"]),
        Route("/v1/tags", create_tag, methods=["POST"]),
        Route("/v1/tags/{id:int}", update_tag, methods=["PUT"]),
        Route("/v1/tags/{id:int}", delete_tag, methods=["DELETE"]),
        Route("/v2/users", list_users_v2, methods=["GET"]),
        Route("/v2/users/{id_or_email}", get_user_v2, methods=["GET"]),
    ]
