"""`GET /v1/calls`: the call list backfill reads (reference/aircall-next.md §4).

`from`/`to` are UNIX seconds on the call's creation (its `started_at`: the Call object has no
`created_at`), `order` is `asc` (default) or `desc`, `per_page` at most 50, and however it is paged
a query yields at most 10,000 calls: the pages past that come back empty with no next link, while
`meta.total` still tells the truth (the pessimistic reading of "limited to retrieving a maximum of
10,000 records per query": a client that pages on without splitting its window silently loses calls).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.datastructures import URL, QueryParams

from sandbox.aircall_resources import BadRequest, paginate

Json = dict[str, Any]


def list_calls(calls: Iterable[Mapping[str, Any]], url: URL) -> Json:
    query = QueryParams(url.query)
    since = _seconds(query.get("from"), "from")
    until = _seconds(query.get("to"), "to")
    order = query.get("order", "asc")
    if order not in ("asc", "desc"):
        raise BadRequest("order must be asc or desc")
    chosen = [dict(call) for call in calls if _within(call, since, until)]
    chosen.sort(key=lambda call: (_started(call), int(call.get("id", 0))), reverse=order == "desc")
    return paginate("calls", chosen, url)


def _within(call: Mapping[str, Any], since: int | None, until: int | None) -> bool:
    started = _started(call)
    return (since is None or started >= since) and (until is None or started <= until)


def _started(call: Mapping[str, Any]) -> int:
    value = call.get("started_at")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _seconds(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit():
        raise BadRequest(f"{name} must be a UNIX timestamp in seconds")
    return int(raw)
