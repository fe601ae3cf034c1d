"""A call's AI insights for its note: read from the stored AI events, completed from Aircall's REST API.

An AI event that lacks its content (DESIGN §12) is fetched once from `GET /v1/calls/{id}/<kind>`
through the worker's Aircall client, which holds every request while Aircall's rate limit is spent;
the answer is kept in `calls.ai_json["fetched"]`, so later syncs do not ask again. Aircall answering
400, 403 or 404 means "no such content" (no licence, nothing generated: reference/aircall-next.md §1)
and is kept as empty. Aircall unreachable or rate limited leaves the insight to a later sync
(`waiting`); after `MAX_FETCH_TRIES` such syncs it is given up on, so a call never waits forever.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from insight.domain.ai_insights import REST_PATHS, AiNote, Insight, fetch_key, merge, normalise_rest, read_insight
from insight.domain.aircall_events import Envelope
from insight.upstream.errors import AuthenticationFailed, UpstreamRejected, UpstreamUnavailable

log = logging.getLogger("callbridge.ai")

#: syncs that may find Aircall unable to answer a fetch before the insight is given up on
MAX_FETCH_TRIES = 5
#: when Aircall named no wait, the next sync tries the fetch again after this long
FETCH_RETRY_S = 60.0


class InsightApi(Protocol):
    async def get_call_insight(self, call_id: int, path: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class CollectedAi:
    note: AiNote
    #: the call's `ai_json` with this sync's fetches and the note's AI sections
    ai_json: dict[str, Any]
    #: why an insight could not be fetched now (the sync then comes back for it), else None
    waiting: str | None = None
    retry_after_s: float | None = None


async def collect_ai(call_id: int, envelopes: Sequence[Envelope], previous: Mapping[str, Any] | None,
                     api: InsightApi | None, sections: Sequence[str]) -> CollectedAi:
    """The AI note of the call from its stored events; fetches what lacks content (at most once per kind)."""
    before = dict(previous or {})
    fetched: dict[str, Any] = dict(before.get("fetched") or {})
    insights = [insight for insight in map(read_insight, envelopes) if insight and insight.kind in sections]
    missing = [insight for insight in insights if insight.content is None and fetch_key(insight) not in fetched]
    waiting: str | None = None
    retry_after_s: float | None = None
    answers: dict[str, dict[str, Any]] = {}
    for insight in missing:
        if api is None:
            break
        if insight.kind not in answers:
            try:
                answers[insight.kind] = await _fetch(api, call_id, insight)
            except UpstreamUnavailable as error:
                # Aircall's rate-limit hold or an outage: ask nothing more now, come back later
                waiting, retry_after_s = error.explanation, error.retry_after_s
                break
        fetched[fetch_key(insight)] = answers[insight.kind]
    # consecutive syncs that found Aircall unable to answer
    tries = int(before.get("fetch_tries") or 0) + 1 if waiting is not None else 0
    if waiting is not None:
        if tries >= MAX_FETCH_TRIES:
            log.warning("call %s: AI insights given up on after %d tries: %s", call_id, tries, waiting)
            for insight in missing:
                fetched.setdefault(fetch_key(insight), {})
            waiting = None
    note = merge(insights, fetched)
    ai_json: dict[str, Any] = {**before, "fetched": fetched, "sections": note.as_json(), "fetch_tries": tries}
    return CollectedAi(note=note, ai_json=ai_json, waiting=waiting, retry_after_s=retry_after_s)


async def _fetch(api: InsightApi, call_id: int, insight: Insight) -> dict[str, Any]:
    try:
        body = await api.get_call_insight(call_id, REST_PATHS[insight.kind])
    except AuthenticationFailed as error:
        if error.status_code == 403:
            return {}  # the AI add-on is not licensed for this call: no content will ever come
        raise UpstreamUnavailable(error.explanation, status_code=error.status_code) from error
    except UpstreamRejected as error:
        log.info("call %s: Aircall has no %s (%s)", call_id, insight.kind, error.explanation)
        return {}
    return normalise_rest(insight.kind, body) or {}
