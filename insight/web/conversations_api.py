"""The conversations API (DESIGN §12 "Messages"): SMS conversations with their sync state, like calls.

`GET /api/conversations?status=&limit=&cursor=` lists them newest first, keyset-paged;
`GET /api/conversations/{id}` is one with its messages and its note as written;
`POST /api/conversations/{id}/retry` looks the number up again and rewrites the note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from insight.store import conversations as store
from insight.store.ops import PageKey
from insight.web.api_auth import require_api_key
from insight.web.api_errors import ApiError
from insight.web.call_id import CALL_ID as _REGISTERS_THE_CONVERTOR  # noqa: F401
from insight.web.ops_json import decode_cursor, encode_cursor, iso, parse_limit, primary_match
from insight.web.services import Services
from shared.states import SyncState

#: digits only and small enough for the store (the call id convertor's rule), so a huge id is a 404, not a 500
CONVERSATION_ID = "{conversation_id:call_id}"


async def list_conversations(request: Request) -> JSONResponse:
    services = _authorised(request)
    params = request.query_params
    statuses = _statuses(params)
    limit = parse_limit(params)
    cursor = params.get("cursor", "").strip()
    key = decode_cursor(cursor) if cursor else None
    after = store.ConversationPageKey(key.created_at, key.call_id) if key else None
    engine = services.store.engine

    def read() -> tuple[list[dict[str, Any]], store.ConversationPageKey | None, dict[int, list[dict[str, Any]]]]:
        rows, next_key = store.list_conversations(engine, statuses=statuses, limit=limit, after=after)
        return rows, next_key, {row["id"]: store.message_rows(engine, row["id"]) for row in rows}

    rows, next_key, messages = await anyio.to_thread.run_sync(read)
    return JSONResponse({
        "conversations": [conversation_json(row, messages[row["id"]]) for row in rows],
        "next_cursor": encode_cursor(PageKey(next_key.created_at, next_key.id)) if next_key else None,
    })


async def _conversation(engine: Engine, conversation_id: int) -> dict[str, Any]:
    """The conversation's row; 404 for one never stored."""
    row = await anyio.to_thread.run_sync(lambda: store.get_conversation(engine, conversation_id))
    if row is None:
        raise _unknown(conversation_id)
    return row


async def get_conversation(request: Request) -> JSONResponse:
    services = _authorised(request)
    conversation_id: int = request.path_params["conversation_id"]
    engine = services.store.engine
    row = await _conversation(engine, conversation_id)
    messages = await anyio.to_thread.run_sync(lambda: store.message_rows(engine, conversation_id))
    body = row.get("synced_body_json") or {}
    return JSONResponse({
        **conversation_json(row, messages),
        "line_name": row.get("line_name"),
        "line_digits": row.get("line_digits"),
        "phone_e164": row.get("phone_e164"),
        "explanation": row.get("explanation"),
        "action": row.get("action"),
        "attempt_count": row.get("attempt_count") or 0,
        "note": {"external_id": body.get("externalID"), "comments": body.get("comments"),
                 "author_id": (body.get("commentingPerson") or {}).get("id")} if row.get("note_id") else None,
    })


async def retry_conversation(request: Request) -> JSONResponse:
    services = _authorised(request)
    conversation_id: int = request.path_params["conversation_id"]
    engine = services.store.engine
    row = await _conversation(engine, conversation_id)
    if row.get("phone_e164"):
        services.lookup.forget(row["phone_e164"])
    if not await anyio.to_thread.run_sync(lambda: store.requeue(engine, conversation_id, rematch=True)):
        raise ApiError(409, f"conversation {conversation_id} is being written right now; try again shortly",
                       error="not_requeued")
    return JSONResponse({"id": conversation_id, "status": SyncState.pending.value, "requeued": True,
                         "detail": "the number will be looked up again and the note written by the next worker"},
                        status_code=202)


def conversation_json(row: Mapping[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "line_id": row["line_id"],
        "number": row["number"],
        "day": row["day"],
        "status": row["status"],
        "match": primary_match(row),
        "note_id": row.get("note_id"),
        "messages": [message_json(message) for message in messages],
        "created_at": iso(row.get("created_at")),
        "updated_at": iso(row.get("updated_at")),
    }


def message_json(message: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "direction": message.get("direction"),
        "sent_at": iso(message.get("sent_at")),
        "sender": message.get("sender"),
        "text": message.get("body"),
        "media": [item.get("url") for item in message.get("media_json") or [] if isinstance(item, dict)],
    }


ROUTES = [
    Route("/api/conversations", list_conversations),
    Route(f"/api/conversations/{CONVERSATION_ID}", get_conversation),
    Route(f"/api/conversations/{CONVERSATION_ID}/retry", retry_conversation, methods=["POST"]),
]


def _statuses(params: Mapping[str, str]) -> tuple[str, ...]:
    statuses = tuple(s.strip() for s in params.get("status", "").split(",") if s.strip())
    unknown = [s for s in statuses if s not in SyncState.__members__]
    if unknown:
        raise ApiError(400, f"parameter 'status' {unknown[0]!r} is not a sync state (one of {', '.join(SyncState)})",
                       error="invalid_parameter")
    return statuses


def _authorised(request: Request) -> Services:
    services: Services = request.state.services
    require_api_key(request, services.settings)
    return services


def _unknown(conversation_id: int) -> ApiError:
    return ApiError(404, f"no conversation {conversation_id} has been received from Aircall")
