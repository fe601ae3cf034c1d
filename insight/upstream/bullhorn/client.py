"""`BullhornClient`: the REST calls callbridge makes, typed, with Bullhorn's answers mapped to our errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, overload

import httpx

from insight.domain.budget import Purpose
from insight.domain.session import SessionVault
from insight.upstream.bullhorn.auth import IDEMPOTENT, OPERATION, REST_ORIGIN, BullhornAuth
from insight.upstream.bullhorn.login import DEFAULT_AUTH_TIMEOUT, BullhornCredentials
from insight.upstream.errors import (
    UpstreamRejected,
    UpstreamUnavailable,
    body_of,
    error_key_of,
    explain,
)
from insight.upstream.meter import MeteredTransport, RequestMeter
from insight.upstream.retry import Clock, Sleep, WaitBudget, parse_retry_after
from shared.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

JSON = dict[str, Any]


@dataclass(frozen=True)
class CreateResult:
    """What `PUT entity/…` answered: the new id and any `messages` (WARNINGs arrive with 200)."""

    id: int
    messages: list[JSON] = field(default_factory=list)


class BullhornClient:
    """Bullhorn REST over an injected `httpx.AsyncClient`, signed by `auth`.

    :param http: the client requests go through (its transport is the test seam).
    :param auth: the session; passed per request, so `http` may be shared with other callers.
    :param concurrency: requests in flight at once, across every caller of this client
        (`CALLBRIDGE_BULLHORN_CONCURRENCY`); the others wait for a slot. 429 waits hold none.
    :param timeout: explicit, because a lookup on the ring path must give up quickly.
    :param rate_limit: how long one call may wait out 429s before raising `UpstreamUnavailable`.
    :param sleep: awaited between 429 retries (tests pass a recorder).
    :param meter: the request meter its transports count into, for the API budget.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        auth: BullhornAuth,
        *,
        concurrency: int,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        rate_limit: WaitBudget | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        meter: RequestMeter | None = None,
    ) -> None:
        self._http = http
        #: counts this client's requests by purpose when its transports were built with it (`open_bullhorn`)
        self.meter = meter
        self.auth = auth
        self._timeout = timeout
        self._rate_limit = rate_limit or WaitBudget()
        self._sleep = sleep
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)

    async def search(self, entity: str, query: str, *, fields: str, count: int = 20, start: int = 0,
                     sort: str | None = None) -> JSON:
        """Lucene search; POSTed so `+` is not decoded to a space and long queries fit (> 7500 chars)."""
        params = _params(fields=fields, count=count, start=start, sort=sort)
        return await self._json("POST", f"search/{entity}", operation=f"{entity} search", params=params,
                                json={"query": query})

    async def query(self, entity: str, where: str, *, fields: str, count: int = 20, start: int = 0,
                    order_by: str | None = None, show_total: bool = False) -> JSON:
        """JPQL-like `where` over the database (CorporateUser is query-only, Candidate/Note search-only).

        `show_total` asks for `total` (`showTotalMatched=true`, as sdk-rest sends it)."""
        params = _params(where=where, fields=fields, count=count, start=start, orderBy=order_by,
                         showTotalMatched="true" if show_total else None)
        return await self._json("GET", f"query/{entity}", operation=f"{entity} query", params=params)

    @overload
    async def get(self, entity: str, ids: int, *, fields: str) -> JSON: ...

    @overload
    async def get(self, entity: str, ids: Sequence[int], *, fields: str) -> list[JSON]: ...

    async def get(self, entity: str, ids: int | Sequence[int], *, fields: str) -> JSON | list[JSON]:
        """One record (an id) or several (a sequence of ids, one request; ids not found are left out)."""
        if isinstance(ids, int):
            body = await self._json("GET", f"entity/{entity}/{ids}", operation=f"{entity} read",
                                    params={"fields": fields})
            return dict(body.get("data") or {})
        if not ids:
            return []
        # `count` always: without it Bullhorn may answer only the first 20 (DESIGN §10)
        body = await self._json("GET", f"entity/{entity}/{','.join(str(i) for i in ids)}",
                                operation=f"{entity} read", params={"fields": fields, "count": str(len(ids))})
        data = body.get("data")
        # A single id answers an object even when asked as a list.
        return [data] if isinstance(data, dict) else list(data or [])

    async def subscribe_events(self, subscription_id: str, entities: Sequence[str],
                               event_types: Sequence[str] = ("INSERTED", "UPDATED", "DELETED")) -> JSON:
        """`PUT event/subscription/{id}`: entity events from now on; the answer carries `lastRequestId`."""
        params = {"type": "entity", "names": ",".join(entities), "eventTypes": ",".join(event_types)}
        return await self._json("PUT", f"event/subscription/{subscription_id}", operation="event subscription",
                                params=params)

    async def events(self, subscription_id: str, *, max_events: int = 100, request_id: int | None = None) -> JSON:
        """The next events, which reading purges (`{}` when there are none), or batch `request_id` again."""
        params = _params(maxEvents=max_events, requestId=request_id)
        return await self._json("GET", f"event/subscription/{subscription_id}", operation="event read",
                                params=params)

    async def last_event_request_id(self, subscription_id: str) -> int:
        """The requestId of the subscription's latest event read."""
        body = await self._json("GET", f"event/subscription/{subscription_id}/lastRequestId",
                                operation="event read")
        result = body.get("result")
        return result if isinstance(result, int) else 0

    async def unsubscribe_events(self, subscription_id: str) -> None:
        await self._json("DELETE", f"event/subscription/{subscription_id}", operation="event unsubscription")

    async def create_note(self, body: Mapping[str, Any]) -> CreateResult:
        """`PUT entity/Note`. Never resent on its own: a 401 raises `SessionExpiredDuringWrite` instead."""
        answer = await self._json("PUT", "entity/Note", operation="note creation", json=body, idempotent=False)
        return _created(answer, "note creation")

    async def create_entity(self, entity: str, body: Mapping[str, Any]) -> CreateResult:
        """`PUT entity/{entity}` (a Candidate or ClientContact for an unknown caller); never resent on its own."""
        answer = await self._json("PUT", f"entity/{entity}", operation=f"{entity} creation", json=body,
                                  idempotent=False)
        return _created(answer, f"{entity} creation")

    async def update_note(self, note_id: int, body: Mapping[str, Any]) -> list[JSON]:
        """`POST entity/Note/{id}` with a partial body; answers Bullhorn's `messages`."""
        answer = await self._json("POST", f"entity/Note/{note_id}", operation="note update", json=body)
        return _messages(answer)

    async def person_notes(self, entity: str, person_id: int, *, fields: str = "id,externalID,dateAdded",
                           count: int = 50, start: int = 0, order_by: str = "-dateAdded") -> list[JSON]:
        """The person's notes, newest first: where a note whose PUT lost its answer is found again."""
        params = _params(fields=fields, count=count, start=start, orderBy=order_by)
        body = await self._json("GET", f"entity/{entity}/{person_id}/notes", operation=f"{entity} notes read",
                                params=params)
        return list(body.get("data") or [])

    async def comment_actions(self) -> list[str]:
        """The allowed note actions (`commentActionList`)."""
        body = await self._json("GET", "settings/commentActionList", operation="note action list read")
        return [str(action) for action in body.get("commentActionList") or []]

    async def ping(self) -> JSON:
        """`{"sessionExpires": epoch ms}`; proves the session works."""
        return await self._json("GET", "ping", operation="session check")

    async def _json(self, method: str, path: str, *, operation: str, params: Mapping[str, str] | None = None,
                    json: Mapping[str, Any] | None = None, idempotent: bool = True) -> JSON:
        waits, waited_s = 0, 0.0
        while True:
            # Built afresh each try: the auth flow rewrote the previous one's URL to the session's restUrl.
            request = self._http.build_request(method, REST_ORIGIN + path, params=params, json=json,
                                               timeout=self._timeout,
                                               extensions={IDEMPOTENT: idempotent, OPERATION: operation})
            try:
                async with self._slots:
                    response = await self._http.send(request, auth=self.auth)
            except httpx.HTTPError as exc:
                raise UpstreamUnavailable(explain(None, type(exc).__name__, operation=operation)) from exc
            if response.status_code != 429:
                return _answer(response, operation, now=self._clock())
            asked_s = parse_retry_after(response.headers.get("Retry-After"), now=self._clock())
            wait_s = self._rate_limit.next_wait(waits_so_far=waits, waited_s=waited_s, asked_s=asked_s)
            if wait_s is None:
                raise UpstreamUnavailable(explain(429, body_of(response), operation=operation), status_code=429,
                                          retry_after_s=max(self._rate_limit.min_wait_s, asked_s or 0.0))
            await self._sleep(wait_s)
            waits, waited_s = waits + 1, waited_s + wait_s


def _answer(response: httpx.Response, operation: str, *, now: float) -> JSON:
    if response.is_success:
        if not response.content:
            return {}
        body = response.json()
        answer = body if isinstance(body, dict) else {"data": body}
        for message in _messages(answer):
            logger.warning("Bullhorn answered the %s with a message: %s", operation, message)
        return answer
    body = body_of(response)
    explanation = explain(response.status_code, body, operation=operation)
    key = error_key_of(body)
    if response.status_code >= 500 and key != "DUPLICATE_VALUE":
        retry_after_s = parse_retry_after(response.headers.get("Retry-After"), now=now)
        raise UpstreamUnavailable(explanation, status_code=response.status_code, retry_after_s=retry_after_s)
    raise UpstreamRejected(explanation, status_code=response.status_code, error_key=key, body=body)


def _created(answer: JSON, operation: str) -> CreateResult:
    entity_id = answer.get("changedEntityId")
    if not isinstance(entity_id, int):
        raise UpstreamRejected(f"Bullhorn answered the {operation} without the new id", status_code=200,
                               body=answer)
    return CreateResult(entity_id, _messages(answer))


def _messages(answer: JSON) -> list[JSON]:
    messages = answer.get("messages")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def _params(**values: str | int | None) -> dict[str, str]:
    return {name: str(value) for name, value in values.items() if value is not None}


@asynccontextmanager
async def open_bullhorn(settings: Settings, vault: SessionVault, *,
                        transport: httpx.AsyncBaseTransport | None = None,
                        meter: RequestMeter | None = None) -> AsyncIterator[BullhornClient]:
    """A `BullhornClient` with its two HTTP clients (REST, auth endpoints), closed on exit; for lifespans.

    Every request is counted by purpose in `meter` (a new one unless given; the client's `.meter`),
    the auth client's as `session`.
    """
    meter = meter or RequestMeter()
    rest_transport = MeteredTransport(transport or httpx.AsyncHTTPTransport(), meter)
    auth_transport = MeteredTransport(transport or httpx.AsyncHTTPTransport(), meter, purpose=Purpose.session)
    async with (
        httpx.AsyncClient(transport=auth_transport, timeout=DEFAULT_AUTH_TIMEOUT, follow_redirects=False) as auth_http,
        httpx.AsyncClient(transport=rest_transport, timeout=DEFAULT_TIMEOUT, follow_redirects=False) as http,
    ):
        auth = BullhornAuth(BullhornCredentials.from_settings(settings), vault, auth_http,
                            login_backoff_s=settings.login_backoff_s)
        yield BullhornClient(http, auth, concurrency=settings.bullhorn_concurrency, meter=meter)
