"""The ops API's JSON shapes (DESIGN §3 "Call JSON") and its query parameters, as pure functions.

A call still ringing has only the few columns the webhook wrote and an empty `state_json`; every
field falls back from the summary columns to the reduced state and then to null, never fails.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from insight.store.events import StoredEvent
from insight.store.ops import CallFilters, PageKey
from insight.web.api_errors import ApiError
from insight.web.call_id import MAX_CALL_ID
from shared.states import SyncState
from shared.timefmt import iso_from_epoch, iso_utc

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
DIRECTIONS = ("inbound", "outbound")
CALL_TYPES = ("outbound", "inbound", "voicemail", "missed")


def iso(value: object) -> str | None:
    """ISO 8601 UTC with `Z` from a datetime, unix seconds or an ISO string (`state_json`); else None."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return iso_from_epoch(value)
    if isinstance(value, str) and value:
        try:
            return iso_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def call_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A list item: the top-level fields of DESIGN §3 Call JSON, plus the queue position."""
    state = _mapping(row.get("state_json"))
    agent = _mapping(state.get("agent"))
    return {
        "call_id": row["call_id"],
        "direction": row.get("direction") or state.get("direction"),
        "type": row.get("call_type") or state.get("call_type"),
        "agent_email": row.get("agent_email") or agent.get("email"),
        "number_name": row.get("number_name") or state.get("number_name"),
        "raw_digits": row.get("raw_digits") or state.get("raw_digits"),
        "started_at": iso(row.get("started_at")) or iso(state.get("started_at")),
        "ended_at": iso(row.get("ended_at")) or iso(state.get("ended_at")),
        "status": row["status"],
        "explanation": row.get("explanation"),
        "match": primary_match(row),
        "note_id": row.get("note_id"),
        "action": row.get("action"),
        "attempt_count": row.get("attempt_count") or 0,
        "next_attempt_at": iso(row.get("next_attempt_at")),
        "updated_at": iso(row.get("updated_at")),
        "source": row.get("source") or "webhook",
    }


def call_detail_json(
    row: Mapping[str, Any],
    events: Sequence[StoredEvent],
    attempt_rows: Sequence[Mapping[str, Any]],
    *,
    note_link: str | None,
    card_url: str,
) -> dict[str, Any]:
    state = _mapping(row.get("state_json"))
    ai = _mapping(row.get("ai_json"))
    return {
        **call_json(row),
        "phone_e164": row.get("phone_e164"),
        # DESIGN §12: the note's AI sections, and what arrived after a write-once note was written
        "ai": ai.get("sections") if isinstance(ai.get("sections"), Mapping) else None,
        "late": [dict(item) for item in ai.get("late") or [] if isinstance(item, Mapping)],
        "card_status": row.get("card_status"),
        "note_link": note_link,
        "card_url": card_url,
        "flags": _mapping(row.get("flags_json")),
        "tags": [_tag_json(tag) for tag in state.get("tags") or [] if isinstance(tag, Mapping)],
        "comments": [_comment_json(comment) for comment in state.get("comments") or [] if isinstance(comment, Mapping)],
        "events": [event_json(event) for event in sorted(events, key=lambda e: (e.event_timestamp, e.id))],
        "attempts": [attempt_json(attempt) for attempt in attempt_rows],
    }


def primary_match(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The person the note is (or will be) about: the one written, else the primary of the lookup."""
    matches = [m for m in _mapping(row.get("match_json")).get("matches") or [] if isinstance(m, Mapping)]
    written_entity, written_id = row.get("note_person_entity"), row.get("note_person_id")
    if written_entity and written_id is not None:
        named = next((m for m in matches if m.get("entity") == written_entity and m.get("id") == written_id), {})
        return {"entity": written_entity, "id": written_id, "name": named.get("name")}
    if not matches:
        return None
    chosen = next((m for m in matches if m.get("is_primary")), matches[0])
    return {"entity": chosen.get("entity"), "id": chosen.get("id"), "name": chosen.get("name")}


def event_json(event: StoredEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "event": event.event,
        "timestamp": iso(event.event_timestamp),
        "received_at": iso(event.received_at),
    }


def attempt_json(attempt: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": attempt.get("id"),
        "kind": attempt.get("kind"),
        "started_at": iso(attempt.get("started_at")),
        "finished_at": iso(attempt.get("finished_at")),
        "status_code": attempt.get("status_code"),
        "outcome": attempt.get("outcome"),
        "error": attempt.get("error"),
        "explanation": attempt.get("explanation"),
        "request_summary": attempt.get("request_summary"),
    }


def parse_call_filters(params: Mapping[str, str]) -> CallFilters:
    statuses = tuple(s.strip() for s in params.get("status", "").split(",") if s.strip())
    unknown = [s for s in statuses if s not in SyncState.__members__]
    if unknown:
        raise _bad("status", f"{unknown[0]!r} is not a sync state (one of {', '.join(SyncState)})")
    return CallFilters(
        statuses=statuses,
        direction=_choice(params, "direction", DIRECTIONS),
        agent_email=params.get("agent", "").strip() or None,
        call_type=_choice(params, "type", CALL_TYPES),
        since=_time(params, "since"),
        until=_time(params, "until"),
    )


#: an encoded cursor is ~70 characters; anything much longer is not one of ours
MAX_CURSOR_CHARS = 256


def parse_limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit", "").strip()
    if not raw:
        return DEFAULT_PAGE_SIZE
    if not _whole_number(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise _bad("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}, got {raw!r}")
    return int(raw)


def encode_cursor(key: PageKey) -> str:
    raw = json.dumps({"c": key.created_at.astimezone(UTC).isoformat(), "id": key.call_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageKey:
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("longer than any cursor this API hands out")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = json.loads(raw)
        created_at = datetime.fromisoformat(body["c"])
        call_id = body["id"]
        if created_at.tzinfo is None or not isinstance(call_id, int) or isinstance(call_id, bool):
            raise ValueError("cursor fields of the wrong type")
        if not 0 <= call_id <= MAX_CALL_ID:
            raise ValueError("no call has that id")
        created_at = created_at.astimezone(UTC)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError, OverflowError, RecursionError):
        raise _bad("cursor", "is not a cursor this API handed out; start again without it") from None
    return PageKey(created_at=created_at, call_id=call_id)


def _whole_number(raw: str) -> bool:
    # str.isdigit() also accepts "²" and other Unicode digits int() cannot read
    return raw.isascii() and raw.isdigit() and len(raw) <= 9


def parse_window(params: Mapping[str, str], name: str, *, default: int, maximum: int) -> int:
    """A window length query parameter (`hours`, `days`): a whole number from 1 to `maximum`."""
    raw = params.get(name, "").strip()
    if not raw:
        return default
    if not _whole_number(raw) or not 1 <= int(raw) <= maximum:
        raise _bad(name, f"must be a whole number from 1 to {maximum}, got {raw!r}")
    return int(raw)


def _tag_json(tag: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": tag.get("name"), "tagged_at": iso(tag.get("tagged_at")), "by_agent": bool(tag.get("by_agent"))}


def _comment_json(comment: Mapping[str, Any]) -> dict[str, Any]:
    author = comment.get("author")
    if isinstance(author, Mapping):
        author = author.get("name") or author.get("email")
    return {
        "content": comment.get("content"),
        "posted_at": iso(comment.get("posted_at")),
        "author": author if isinstance(author, str) else None,
    }


def _choice(params: Mapping[str, str], name: str, allowed: Sequence[str]) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise _bad(name, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _time(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        # an unencoded "+01:00" offset arrives as " 01:00"
        fixed = raw.replace(" ", "+") if "T" in raw else raw
        moment = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        # year 1 east of UTC (or 9999 west of it) has no UTC equivalent: OverflowError
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _bad(name, f"must be an ISO 8601 time such as 2026-11-25T10:00:00Z, got {raw!r}") from None


def _bad(parameter: str, problem: str) -> ApiError:
    return ApiError(400, f"parameter {parameter!r} {problem}", error="invalid_parameter")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
