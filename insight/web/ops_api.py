"""The ops API (DESIGN §3): calls with their sync state, one call in full, retry, tags, summary figures.

Every route needs the bearer `CALLBRIDGE_API_KEY`. Store reads run in a worker thread; the only
Bullhorn calls are the cached action list (tags) and the UI base of the note link (best effort).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from insight.domain.actions import classify_tag
from insight.domain.cards import record_link
from insight.domain.default_actions import default_action_rows
from insight.domain.phones import normalize
from insight.store import backfill as backfill_rows
from insight.store import ops
from insight.store.queue import requeue
from insight.store.tables import utcnow
from insight.upstream.action_list import ActionListUnavailable
from insight.upstream.errors import UpstreamError
from insight.web.api_auth import require_api_key
from insight.web.api_errors import ApiError
from insight.web.budget import budget_now
from insight.web.call_id import CALL_ID
from insight.web.ops_json import (
    call_detail_json,
    call_json,
    decode_cursor,
    encode_cursor,
    iso,
    parse_call_filters,
    parse_limit,
    parse_window,
)
from insight.web.ops_summary import hourly_timeline, latency_figures
from insight.web.services import Services
from insight.web.signing import card_url
from shared.states import SyncState

log = logging.getLogger("callbridge.web")

#: the call detail must not wait on a slow Bullhorn login just to build the note link
NOTE_LINK_TIMEOUT_S = 3.0
SUMMARY_DEFAULT_HOURS = 24
#: a week of hourly buckets is as much as a chart shows legibly
SUMMARY_MAX_HOURS = 168
#: the tags page looks at calls first seen this many days back: enough to see every tag in use,
#: bounded so the page does not read the whole history on every refresh
TAG_WINDOW_DAYS = 30
TAG_WINDOW_MAX_DAYS = 366


async def list_calls(request: Request) -> JSONResponse:
    services = _authorised(request)
    params = request.query_params
    filters = parse_call_filters(params)
    limit = parse_limit(params)
    cursor = params.get("cursor", "").strip()
    after = decode_cursor(cursor) if cursor else None
    engine = services.store.engine
    page = await anyio.to_thread.run_sync(lambda: ops.list_calls(engine, filters, limit=limit, after=after))
    return JSONResponse(
        {
            "calls": [call_json(row) for row in page.calls],
            "next_cursor": encode_cursor(page.next_key) if page.next_key else None,
        }
    )


async def get_call(request: Request) -> JSONResponse:
    services = _authorised(request)
    call_id: int = request.path_params["call_id"]

    def read() -> tuple[dict[str, Any] | None, list[Any], list[dict[str, Any]]]:
        engine = services.store.engine
        row = ops.get_call(engine, call_id)
        if row is None:
            return None, [], []
        return row, services.store.events_for_call(call_id), ops.attempts_for_call(engine, call_id)

    row, events, attempt_rows = await anyio.to_thread.run_sync(read)
    if row is None:
        raise _unknown_call(call_id)
    settings = services.settings
    return JSONResponse(
        call_detail_json(
            row,
            events,
            attempt_rows,
            note_link=await _note_link(services, row.get("note_id")),
            card_url=card_url(settings.public_url, call_id, key=settings.signing_key.get(), now=time.time()),
        )
    )


async def retry_call(request: Request) -> JSONResponse:
    services = _authorised(request)
    call_id: int = request.path_params["call_id"]
    engine = services.store.engine
    row = await anyio.to_thread.run_sync(lambda: ops.get_call(engine, call_id))
    if row is None:
        raise _unknown_call(call_id)
    if row["status"] == SyncState.synced.value and row.get("last_event_id") == row.get("synced_event_id"):
        raise ApiError(
            409,
            f"call {call_id} is synced and nothing has changed since its note was written: there is nothing to retry",
            error="already_synced",
        )
    phone = row.get("phone_e164") or _e164(row.get("raw_digits"), services.settings.default_region)
    if phone:
        services.lookup.forget(phone)
    requeued = await anyio.to_thread.run_sync(lambda: requeue(engine, call_id, rematch=True))
    after = await anyio.to_thread.run_sync(lambda: ops.get_call(engine, call_id))
    status = after["status"] if after else row["status"]
    if not requeued:
        raise ApiError(
            409,
            f"call {call_id} could not be queued again (it is {status}): a worker is probably writing it right now",
            error="not_requeued",
        )
    log.info("call %s queued again for a re-match by the ops API", call_id)
    return JSONResponse(
        {
            "call_id": call_id,
            "status": status,
            "requeued": True,
            "detail": f"call {call_id} will be looked up again in Bullhorn and its note written by the next worker",
        },
        status_code=202,
    )


async def list_tags(request: Request) -> JSONResponse:
    services = _authorised(request)
    try:
        action_list = await services.action_list.get()
    except ActionListUnavailable as error:
        raise ApiError(503, str(error), error="bullhorn_unavailable") from None
    days = parse_window(request.query_params, "days", default=TAG_WINDOW_DAYS, maximum=TAG_WINDOW_MAX_DAYS)
    since = utcnow() - timedelta(days=days)
    counts = await anyio.to_thread.run_sync(lambda: ops.tag_counts(services.store.engine, since=since))
    tags = []
    for tag, calls in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        verdict = classify_tag(tag, action_list.actions)
        tags.append(
            {
                "tag": tag,
                "calls": calls,
                "action": verdict.action,
                "problem": verdict.problem,
                "suggestion": verdict.suggestion,
            }
        )
    return JSONResponse(
        {
            "actions": list(action_list.actions),
            "actions_read_at": iso(action_list.read_at),
            "actions_stale": action_list.stale,
            "tags": tags,
            "default_actions": default_action_rows(services.settings.default_actions,
                                                   services.settings.default_action, action_list.actions),
        }
    )


async def summary(request: Request) -> JSONResponse:
    services = _authorised(request)
    hours = parse_window(request.query_params, "hours", default=SUMMARY_DEFAULT_HOURS, maximum=SUMMARY_MAX_HOURS)
    engine = services.store.engine
    now = utcnow()

    def read() -> tuple[dict[str, int], dict[str, int], ops.QueueFigures, list[ops.SyncTiming]]:
        window_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
        return (
            ops.state_counts(engine),
            ops.card_counts(engine),
            ops.queue_figures(engine, now),
            ops.sync_timings(engine, window_start),
        )

    counts, cards, queue, timings = await anyio.to_thread.run_sync(read)
    budget = await budget_now(engine, services.settings, services.meter, now)
    backfilled, last_run = await anyio.to_thread.run_sync(
        lambda: (backfill_rows.backfilled_count(engine), backfill_rows.last_job(engine, kind=backfill_rows.PERIODIC)))
    index = await anyio.to_thread.run_sync(services.index.status)
    oldest = queue.oldest_due_at
    timeline = hourly_timeline(timings, now=now, hours=hours)
    return JSONResponse(
        {
            "generated_at": iso(now),
            "counts": counts,
            "total": sum(counts.values()),
            "queue": {
                "depth": queue.depth,
                "due": queue.due,
                "oldest_pending_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
            },
            "latency": {"window_hours": hours, **latency_figures(timings)},
            "cards": {"pushed": cards.get("pushed", 0), "failed": cards.get("failed", 0)},
            "timeline": [{**bucket, "hour": iso(bucket["hour"])} for bucket in timeline],
            "index": index.as_json(),
            "bullhorn_requests": budget.as_json(),
            "backfill": {"calls_taken_in": backfilled, "last_run": last_run.as_json() if last_run else None},
        }
    )


ROUTES = [
    Route("/api/calls", list_calls),
    Route(f"/api/calls/{CALL_ID}", get_call),
    Route(f"/api/calls/{CALL_ID}/retry", retry_call, methods=["POST"]),
    Route("/api/tags", list_tags),
    Route("/api/summary", summary),
]


def _authorised(request: Request) -> Services:
    services: Services = request.state.services
    require_api_key(request, services.settings)
    return services


async def _note_link(services: Services, note_id: int | None) -> str | None:
    if note_id is None:
        return None
    with anyio.move_on_after(NOTE_LINK_TIMEOUT_S):
        try:
            return record_link(await services.ui_base_url(), "Note", note_id)
        except (UpstreamError, RuntimeError) as error:
            log.info("no Bullhorn link for note %s: %s", note_id, error)
    return None


def _e164(raw_digits: str | None, region: str) -> str | None:
    return normalize(raw_digits, region) if raw_digits else None


def _unknown_call(call_id: int) -> ApiError:
    return ApiError(404, f"no call {call_id} has been received from Aircall")
