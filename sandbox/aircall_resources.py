"""Aircall REST resources of the demo company, list pagination, and Insight Card validation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import URL, QueryParams

from sandbox.aircall_objects import API_BASE, Json, number_object, tag_id, user_object
from sandbox.people import AGENTS, LINES, SYSTEM_TAGS, TAGS

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50
#: Aircall lists at most this many items per query, however it is paged
MAX_LIST_ITEMS = 10_000
CARD_LINE_TYPES = ("title", "shortText")
_TAG_COLORS = ("#00B388", "#F5A623", "#D0021B", "#4A90E2", "#9013FE", "#7ED321")


class BadRequest(ValueError):
    """A request the real API would refuse with 400; the message names the culprit."""


def users() -> list[Json]:
    time_zones = [line.time_zone for line in LINES]
    return [
        {
            **user_object(agent),
            "time_zone": time_zones[index % len(time_zones)],
            "created_at": f"2021-0{1 + index % 9}-1{index % 10}T09:30:00.000Z",
        }
        for index, agent in enumerate(AGENTS)
    ]


def numbers() -> list[Json]:
    return [{**number_object(line), "created_at": "2020-11-02T08:00:00.000Z"} for line in LINES]


def tags() -> list[Json]:
    return [
        {
            "id": tag_id(name),
            "direct_link": f"{API_BASE}/tags/{tag_id(name)}",
            "name": name,
            "color": _TAG_COLORS[index % len(_TAG_COLORS)],
            "description": "Set by Aircall" if name in SYSTEM_TAGS else None,
        }
        for index, name in enumerate(TAGS)
    ]


def paginate(key: str, items: Sequence[Json], url: URL) -> Json:
    """One page of `items` as `{key: [...], "meta": {...}}`, the way Aircall lists answer."""
    query = QueryParams(url.query)
    page = _positive_int(query.get("page"), "page", 1)
    per_page = min(_positive_int(query.get("per_page"), "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    start = (page - 1) * per_page
    reachable = items[:MAX_LIST_ITEMS]
    chunk = list(reachable[start:start + per_page])
    has_next = start + per_page < len(reachable)
    return {
        key: chunk,
        "meta": {
            "count": len(chunk),
            "total": len(items),
            "current_page": page,
            "per_page": per_page,
            "next_page_link": str(url.include_query_params(page=page + 1, per_page=per_page)) if has_next else None,
            "previous_page_link": str(url.include_query_params(page=page - 1, per_page=per_page))
            if page > 1 else None,
        },
    }


def validate_card(body: Any) -> list[Json]:
    """The lines of an Insight Card body `{"contents": [...]}`; raises BadRequest naming the field."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with a 'contents' list")
    unknown = sorted(set(body) - {"contents"})
    if unknown:
        raise BadRequest(f"{unknown[0]} is not a known field (only 'contents')")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise BadRequest("contents must be a non-empty list of lines")
    lines: list[Json] = []
    for index, line in enumerate(contents):
        where = f"contents[{index}]"
        if not isinstance(line, dict):
            raise BadRequest(f"{where} must be an object")
        extra = sorted(set(line) - {"type", "text", "label", "link"})
        if extra:
            raise BadRequest(f"{where}.{extra[0]} is not a known field")
        if line.get("type") not in CARD_LINE_TYPES:
            raise BadRequest(f"{where}.type must be one of {', '.join(CARD_LINE_TYPES)}")
        text = line.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest(f"{where}.text must be a non-empty string")
        for name in ("label", "link"):
            if name in line and not isinstance(line[name], str):
                raise BadRequest(f"{where}.{name} must be a string")
        link = line.get("link")
        if isinstance(link, str) and not link.startswith(("http://", "https://")):
            raise BadRequest(f"{where}.link must be an http(s) URL")
        lines.append(dict(line))
    return lines


def _positive_int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequest(f"{name} must be a positive integer")
    return int(raw)
