"""`AircallClient`: Aircall's public REST API (reference/aircall.md §1, §4, §5) on an injected httpx client.

Aircall's quota is per company and its size is disputed (60 or 120 a minute), so the client reads
`X-AircallApi-Remaining` / `X-AircallApi-Reset` on every answer instead of assuming a number, and
waits for the reset once the quota is spent rather than collecting 429s. After a 429 it sends nothing,
for any call, before that reset (DESIGN §15). The reset's unit is unknown (epoch seconds or
milliseconds, DESIGN §10): both are read, and no header buys a wait longer than Aircall's 60 s window.

The quota is the company's, so a hold is shared with every other process through a `SharedHold`
(the store, `insight.store.aircall_hold`): written when this client sets one; read before the first
request and then once per `SHARED_READ_S` in the background while requests keep coming, so a card
push costs no store read and another process's 429 holds this one within about a second.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import httpx

from insight.upstream.errors import (
    AuthenticationFailed,
    UpstreamRejected,
    UpstreamUnavailable,
    body_of,
    error_key_of,
    explain_aircall,
)
from insight.upstream.retry import Clock, Sleep, WaitBudget, parse_retry_after
from shared.settings import Secret, Settings

# The card is pushed while the phone rings: an answer later than this is of no use to the agent.
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
DEFAULT_WAIT_BUDGET = WaitBudget(max_waits=3, max_total_s=30.0, min_wait_s=0.5)
PER_PAGE = 50
# Aircall serves at most 10,000 items of a list however it is paged: 200 pages of 50.
_MAX_PAGES = 200
#: Aircall's rate-limit window (reference/aircall-next.md §7): the longest wait any header can ask
WINDOW_S = 60.0

#: how often the hold other processes may have set is read while requests are being sent
SHARED_READ_S = 1.0
#: the shared hold is no longer watched after this long without a request (the next one reads it first)
SHARED_IDLE_S = 60.0

JSON = dict[str, Any]

log = logging.getLogger("callbridge.aircall")


class SharedHold(Protocol):
    """The hold every process of the deployment obeys (epoch seconds); it only ever moves later."""

    async def resume_at(self) -> float | None: ...

    async def hold_until(self, resume_at: float) -> None: ...


class AircallClient:
    """Aircall REST with Basic auth (`api_id:api_token`), rate-limit aware.

    :param http: the client requests go through (its transport is the test seam).
    :param base_url: `AIRCALL_API_URL`, without `/v1`.
    :param rate_limit: how long one call may wait for the quota or out a 429 before raising.
    :param sleep: awaited for those waits; `clock` (epoch seconds) is compared with `X-AircallApi-Reset`.
    :param shared: the hold shared with the deployment's other processes (None: this client's own only).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_id: str,
        api_token: str | Secret,
        base_url: str = "https://api.aircall.io",
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        rate_limit: WaitBudget = DEFAULT_WAIT_BUDGET,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        shared: SharedHold | None = None,
        shared_read_s: float = SHARED_READ_S,
    ) -> None:
        self._http = http
        token = api_token.get() if isinstance(api_token, Secret) else api_token
        self._auth = httpx.BasicAuth(api_id, token)
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._rate_limit = rate_limit
        self._sleep = sleep
        self._clock = clock
        #: epoch seconds before which nothing is sent to Aircall, for any call (None: go ahead)
        self.resume_at: float | None = None
        self._shared = shared
        self._shared_read_s = shared_read_s
        self._shared_watch: asyncio.Task[None] | None = None
        self._shared_failing = False
        self._last_request_at = 0.0

    async def aclose(self) -> None:
        """Stop watching the shared hold."""
        watch = self._shared_watch
        if watch is not None:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)

    async def push_insight_card(self, call_id: int, contents: Sequence[Mapping[str, Any]]) -> None:
        """Show the card lines (`title`/`shortText` with `text`, optional `label`, `link`) to the agent."""
        await self._json("POST", f"/v1/calls/{call_id}/insight_cards", operation="insight card push",
                         json={"contents": [dict(line) for line in contents]})

    async def get_call(self, call_id: int) -> JSON:
        """The Call object (unwrapped from `{"call": …}`)."""
        body = await self._json("GET", f"/v1/calls/{call_id}", operation="call fetch")
        return dict(body.get("call") or {})

    async def get_call_insight(self, call_id: int, path: str) -> JSON:
        """An AI insight of a call as Aircall answers it, e.g. `summary` or `transcription`
        (reference/aircall-next.md §1; the wrapper key is unconfirmed, so the body is returned whole)."""
        return await self._json("GET", f"/v1/calls/{call_id}/{path}", operation=f"AI {path} fetch")

    async def list_calls(self, *, start: int, end: int, page: int = 1,
                         per_page: int = PER_PAGE) -> tuple[list[JSON], JSON]:
        """A page of the calls started from `start` to `end` (UNIX s, inclusive), oldest first, and its `meta`."""
        params = {"from": str(start), "to": str(end), "order": "asc", "page": str(page), "per_page": str(per_page)}
        body = await self._json("GET", "/v1/calls", operation="call list", params=params)
        calls = [call for call in body.get("calls") or [] if isinstance(call, dict)]
        return calls, dict(body.get("meta") or {})

    async def list_users(self) -> list[JSON]:
        """Users with their e-mails, from `/v2/users` (the v1 user endpoints were removed on 2026-09-30)."""
        return await self._list("users", version="v2")

    async def list_tags(self) -> list[JSON]:
        return await self._list("tags")

    async def create_tag(self, name: str, *, color: str) -> JSON:
        body = await self._json("POST", "/v1/tags", operation="tag creation", json={"name": name, "color": color})
        return dict(body.get("tag") or {})

    async def rename_tag(self, tag_id: int, name: str) -> JSON:
        body = await self._json("PUT", f"/v1/tags/{tag_id}", operation="tag rename", json={"name": name})
        return dict(body.get("tag") or {})

    async def list_webhooks(self) -> list[JSON]:
        """The company's webhooks; the list may leave out each `token` (`get_webhook` has it)."""
        return await self._list("webhooks")

    async def get_webhook(self, webhook_id: str) -> JSON:
        body = await self._json("GET", f"/v1/webhooks/{webhook_id}", operation="webhook read")
        return dict(body.get("webhook") or {})

    async def create_webhook(self, url: str, events: Sequence[str], *, custom_name: str) -> JSON:
        """The new webhook with its `token`. `events` must not be empty: empty subscribes to every event."""
        if not events:
            raise ValueError("a webhook without events would receive every Aircall event")
        body = await self._json("POST", "/v1/webhooks", operation="webhook registration",
                                json={"url": url, "events": list(events), "custom_name": custom_name})
        return dict(body.get("webhook") or {})

    async def activate_webhook(self, webhook_id: str, events: Sequence[str]) -> JSON:
        """Set the webhook to exactly `events` and active; the events are always sent, since an update
        without them subscribes the webhook to every event."""
        if not events:
            raise ValueError("a webhook without events would receive every Aircall event")
        body = await self._json("PUT", f"/v1/webhooks/{webhook_id}", operation="webhook update",
                                json={"events": list(events), "active": True})
        return dict(body.get("webhook") or {})

    async def ping(self) -> JSON:
        """`{"ping": "pong"}` when the API id and token are accepted."""
        return await self._json("GET", "/v1/ping", operation="credentials check")

    async def _list(self, resource: str, *, version: str = "v1") -> list[JSON]:
        items: list[JSON] = []
        params: dict[str, str] = {"page": "1", "per_page": str(PER_PAGE)}
        for _ in range(_MAX_PAGES):
            body = await self._json("GET", f"/{version}/{resource}", operation=f"{resource} list", params=params)
            items.extend(item for item in body.get(resource) or [] if isinstance(item, dict))
            link = (body.get("meta") or {}).get("next_page_link")
            if not link:
                break
            # Only the link's paging is taken: our credentials go to our base URL, nowhere else.
            params = {**params, **dict(httpx.URL(str(link)).params)}
        return items

    async def _json(self, method: str, path: str, *, operation: str, params: Mapping[str, str] | None = None,
                    json: Mapping[str, Any] | None = None) -> JSON:
        waits, waited_s = 0, 0.0
        refused: httpx.Response | None = None
        while True:
            await self._learn_shared_hold()
            blocked_s = (self.resume_at or 0.0) - self._clock()
            if blocked_s > 0:
                wait_s = self._rate_limit.next_wait(waits_so_far=waits, waited_s=waited_s, asked_s=blocked_s)
                if wait_s is None:
                    raise UpstreamUnavailable(
                        explain_aircall(429, None if refused is None else body_of(refused), operation=operation),
                        status_code=None if refused is None else 429, retry_after_s=blocked_s)
                await self._sleep(wait_s)
                waits, waited_s = waits + 1, waited_s + wait_s
                continue
            try:
                response = await self._http.request(method, self._base_url + path, params=params, json=json,
                                                    auth=self._auth, timeout=self._timeout)
            except httpx.HTTPError as exc:
                raise UpstreamUnavailable(explain_aircall(None, type(exc).__name__, operation=operation)) from exc
            held = self.resume_at
            self._note_quota(response)
            if self.resume_at != held and self._shared is not None:
                await self._share_hold(self.resume_at)
            if response.status_code != 429:
                return _answer(response, operation, now=self._clock())
            refused = response

    async def _learn_shared_hold(self) -> None:
        """Take in a hold another process set, without a store read on the request's path.

        The first request (and the first after `SHARED_IDLE_S` without any) reads it and starts a
        watch that reads it again every `shared_read_s` while requests keep coming.
        """
        if self._shared is None:
            return
        self._last_request_at = time.monotonic()
        if self._shared_watch is None:
            await self._read_shared_hold()
            self._shared_watch = asyncio.get_running_loop().create_task(self._watch_shared_hold())

    async def _watch_shared_hold(self) -> None:
        try:
            while time.monotonic() - self._last_request_at < SHARED_IDLE_S:
                await asyncio.sleep(self._shared_read_s)
                await self._read_shared_hold()
        finally:
            self._shared_watch = None

    async def _read_shared_hold(self) -> None:
        assert self._shared is not None
        try:
            resume_at = await self._shared.resume_at()
        except Exception as exc:  # the shared hold is a courtesy to the quota: never fail a request over it
            if not self._shared_failing:
                log.warning("shared Aircall hold unreadable: %s", type(exc).__name__)
            self._shared_failing = True
            return
        self._shared_failing = False
        now = self._clock()
        if resume_at is not None and resume_at > max(now, self.resume_at or 0.0):
            # no stored word buys a wait longer than Aircall's window either
            self.resume_at = min(resume_at, now + WINDOW_S)

    async def _share_hold(self, resume_at: float | None) -> None:
        assert self._shared is not None
        if resume_at is None:
            return
        try:
            await self._shared.hold_until(resume_at)
        except Exception as exc:  # as above: this process still holds itself
            log.warning("shared Aircall hold not stored: %s", type(exc).__name__)

    def _note_quota(self, response: httpx.Response) -> None:
        """Hold every request until the reset when this answer says the quota is spent."""
        now = self._clock()
        reset = reset_epoch_s(response.headers.get("X-AircallApi-Reset"), now=now)
        if response.status_code == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
            asked_s = max(retry_after or 0.0, 0.0 if reset is None else reset - now, self._rate_limit.min_wait_s)
        elif reset is not None and _int(response.headers.get("X-AircallApi-Remaining")) == 0:
            asked_s = reset - now
        else:
            return
        self.resume_at = max(self.resume_at or 0.0, now + min(asked_s, WINDOW_S))


def reset_epoch_s(value: str | None, *, now: float) -> float | None:
    """`X-AircallApi-Reset` as epoch seconds, whichever unit it came in; None when it makes no sense.

    Aircall names no unit and clients disagree (seconds or milliseconds, DESIGN §10). At today's
    epoch the two are a factor 1,000 apart, so at most one reading lands near `now`: a value that
    lands within a window of it under neither (in the past, or farther ahead than two windows) is
    ignored, not obeyed.
    """
    try:
        raw = float(value) if value is not None else math.nan
    except ValueError:
        return None
    for seconds in (raw, raw / 1000):
        if math.isfinite(seconds) and now - WINDOW_S <= seconds <= now + 2 * WINDOW_S:
            return seconds
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _answer(response: httpx.Response, operation: str, *, now: float) -> JSON:
    if response.is_success:
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {"data": body}
    body = body_of(response)
    explanation = explain_aircall(response.status_code, body, operation=operation)
    if response.status_code >= 500:
        raise UpstreamUnavailable(explanation, status_code=response.status_code,
                                  retry_after_s=parse_retry_after(response.headers.get("Retry-After"), now=now))
    error = AuthenticationFailed if response.status_code in (401, 403) else UpstreamRejected
    raise error(explanation, status_code=response.status_code, error_key=error_key_of(body), body=body)


@asynccontextmanager
async def open_aircall(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None,
                       shared: SharedHold | None = None) -> AsyncIterator[AircallClient]:
    """An `AircallClient` with its own HTTP client, closed on exit; for lifespans.

    `shared`: the deployment's hold (the store's), which every process talking to Aircall passes.
    """
    async with httpx.AsyncClient(transport=transport, timeout=DEFAULT_TIMEOUT) as http:
        client = AircallClient(http, api_id=settings.aircall_api_id, api_token=settings.aircall_api_token,
                               base_url=settings.aircall_api_url, shared=shared)
        try:
            yield client
        finally:
            await client.aclose()
