"""The Bullhorn session as an `httpx.Auth`: resolve, sign, and renew once on 401 (DESIGN §5).

Requests are built against `REST_ORIGIN` ("bullhorn://rest/search/Candidate"): the real base is the
`restUrl` that `/login` answers, with the corp token, known only once a session exists and possibly
different after every re-login (swimlane moves). The auth flow owns the session, so it is the one
place that can resolve the URL; and a request sent without this auth fails loudly (unsupported
scheme) instead of reaching some default host.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, replace

import httpx

from insight.domain.session import BullhornSession, SessionVault
from insight.upstream.bullhorn.login import DEFAULT_AUTH_TIMEOUT, BullhornCredentials, LoginFlow
from insight.upstream.errors import (
    AuthenticationFailed,
    SessionExpiredDuringWrite,
    UpstreamError,
    UpstreamRejected,
    body_of,
    error_key_of,
    explain,
)

logger = logging.getLogger(__name__)

REST_ORIGIN = "bullhorn://rest/"
#: request extension: False marks a request that must not be resent blindly (a note PUT)
IDEMPOTENT = "callbridge_idempotent"
#: request extension: the operation named in explanations ("note creation")
OPERATION = "callbridge_operation"
# sdk-rest renews one minute before the TTL; a request started just before expiry must still land.
DEFAULT_EXPIRY_MARGIN_S = 60.0


@dataclass(frozen=True)
class SessionStatus:
    """What a process knows of the session without asking Bullhorn (readiness, the health report)."""

    #: the usable session held in memory or in the vault, if any
    session: BullhornSession | None
    #: the last refused login, while no new attempt may start
    failure: UpstreamError | None = None
    #: epoch seconds from which a login may be tried again
    retry_at: float | None = None


class BullhornAuth(httpx.Auth):
    """Signs `REST_ORIGIN` requests with the deployment's one Bullhorn session, establishing it as needed.

    :param credentials: the API user's credentials (`BullhornCredentials.from_settings`).
    :param vault: where the session is shared between processes; its `lock()` serialises renewals.
    :param http: a client for the auth endpoints only; redirects are handled here, not followed blindly.
    :param clock: epoch seconds, to compare with the session's `expires_at`.
    :param login_backoff_s: after a refused login (bad credentials, a refused grant: `UpstreamRejected`),
        seconds during which `session()` fails at once with the same error instead of asking Bullhorn
        again; repeated refused logins can lock the API user. An unreachable Bullhorn (`UpstreamUnavailable`)
        is left to the callers' retry schedules, so a short outage does not hold every sync for the backoff.
    """

    def __init__(
        self,
        credentials: BullhornCredentials,
        vault: SessionVault,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
        expiry_margin_s: float = DEFAULT_EXPIRY_MARGIN_S,
        timeout: httpx.Timeout = DEFAULT_AUTH_TIMEOUT,
        login_backoff_s: float = 0.0,
    ) -> None:
        self._flow = LoginFlow(credentials, http, timeout=timeout)
        self._vault = vault
        self._clock = clock
        self._margin_s = expiry_margin_s
        # The vault lock serialises processes; this one keeps a process's coroutines from queueing
        # on the (possibly remote) vault lock only to find the session already renewed.
        self._lock = asyncio.Lock()
        self._session: BullhornSession | None = None
        self._rejected_token: str | None = None
        self._backoff_s = login_backoff_s
        self._failure: UpstreamError | None = None
        self._failed_at = 0.0
        #: sessions obtained with the username/password flow, and with a refresh token
        self.logins = 0
        self.refreshes = 0

    async def session(self) -> BullhornSession:
        """The current session; shared from the vault, refreshed or logged in first when needed."""
        current = self._session
        if current is not None and self._usable(current):
            return current
        async with self._lock:
            current = self._session
            if current is not None and self._usable(current):
                return current
            if current is None:
                stored = await self._vault.load()
                if stored is not None and self._usable(stored):
                    self._session = stored
                    return stored
            self._raise_during_backoff()
            try:
                self._session = await self._establish()
            except UpstreamRejected as failure:
                self._failure, self._failed_at = failure, self._clock()
                raise
            self._failure = None
            return self._session

    async def status(self) -> SessionStatus:
        """The session state as known here and in the vault; never logs in."""
        failure = self._failure if self._in_backoff() else None
        retry_at = self._failed_at + self._backoff_s if failure is not None else None
        current = self._session
        if current is None or not self._usable(current):
            current = await self._vault.load()
        return SessionStatus(current if current is not None and self._usable(current) else None, failure, retry_at)

    def _in_backoff(self) -> bool:
        return self._failure is not None and self._clock() < self._failed_at + self._backoff_s

    def _raise_during_backoff(self) -> None:
        if self._failure is not None and self._in_backoff():
            raise self._failure.with_traceback(None)

    def invalidate(self, rest_token: str) -> None:
        """Forget the session if Bullhorn refused `rest_token` and no other coroutine has replaced it yet."""
        if self._session is not None and self._session.rest_token == rest_token:
            self._rejected_token = rest_token

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        target = _target_of(request)
        session = await self.session()
        _bind(request, session, target)
        response = yield request
        if response.status_code != 401:
            return
        self.invalidate(session.rest_token)
        session = await self.session()
        operation = str(request.extensions.get(OPERATION) or f"{request.method} {target.decode('ascii', 'replace')}")
        if request.extensions.get(IDEMPOTENT, True) is False:
            raise SessionExpiredDuringWrite(
                f"The Bullhorn session expired during the {operation}; a new session is ready and the request "
                "was not resent (check whether it was applied, then send it again)", status_code=401)
        _bind(request, session, target)
        response = yield request
        if response.status_code == 401:
            await response.aread()
            self.invalidate(session.rest_token)
            body = body_of(response)
            raise AuthenticationFailed(explain(401, body, operation=operation), status_code=401,
                                       error_key=error_key_of(body), body=body)

    async def _establish(self) -> BullhornSession:
        async with self._vault.lock():
            stored = await self._vault.load()
            if stored is not None and self._usable(stored):
                return stored  # another process renewed it while we waited for the lock
            if stored is not None and stored.refresh_token and stored.oauth_url:
                try:
                    return await self._refresh(stored, stored.refresh_token, stored.oauth_url)
                except UpstreamRejected as exc:
                    logger.warning("Bullhorn refresh failed, logging in with the password instead: %s", exc)
            return await self._password_login()

    async def _refresh(self, stored: BullhornSession, refresh_token: str, oauth_url: str) -> BullhornSession:
        tokens = await self._flow.refresh(oauth_url, refresh_token)
        # The old refresh token died on use: store its successor before anything else can fail,
        # or a crash here locks every process out until someone logs in with the password.
        stored = await self._vault.save(replace(stored, refresh_token=tokens.refresh_token))
        # /login where loginInfo says: whether the host of the session's restUrl answers it too is
        # unknown (DESIGN §10), so it costs one discovery per refresh
        discovery = await self._flow.discover()
        rest_token, rest_url = await self._flow.rest_login(discovery.rest_url, tokens.access_token)
        session = await self._save(rest_token, rest_url, tokens.refresh_token, stored.ats_url, oauth_url)
        self.refreshes += 1
        return session

    async def _password_login(self) -> BullhornSession:
        discovery = await self._flow.discover()
        code = await self._flow.authorization_code(discovery.oauth_url)
        tokens = await self._flow.exchange_code(discovery.oauth_url, code)
        rest_token, rest_url = await self._flow.rest_login(discovery.rest_url, tokens.access_token)
        session = await self._save(rest_token, rest_url, tokens.refresh_token, discovery.ats_url, discovery.oauth_url)
        self.logins += 1
        return session

    async def _save(self, rest_token: str, rest_url: str, refresh_token: str | None, ats_url: str | None,
                    oauth_url: str) -> BullhornSession:
        expires_at = await self._flow.session_expires(rest_url, rest_token)
        return await self._vault.save(BullhornSession(rest_token=rest_token, rest_url=rest_url,
                                                      refresh_token=refresh_token, ats_url=ats_url,
                                                      oauth_url=oauth_url, expires_at=expires_at))

    def _usable(self, session: BullhornSession) -> bool:
        if not session.rest_token or session.rest_token == self._rejected_token:
            return False
        return session.expires_at is None or session.expires_at - self._margin_s > self._clock()


def _target_of(request: httpx.Request) -> bytes:
    """The path and query relative to the session's restUrl."""
    url = request.url
    if url.scheme != "bullhorn" or url.host != "rest":
        raise ValueError(f"BullhornAuth signs only {REST_ORIGIN}… requests, not {url.scheme}://{url.host}")
    return url.raw_path.lstrip(b"/")


def _bind(request: httpx.Request, session: BullhornSession, target: bytes) -> None:
    base = httpx.URL(session.rest_url)
    request.url = base.copy_with(raw_path=base.raw_path + target)
    # httpx set Host from the placeholder when the request was built.
    request.headers["Host"] = request.url.netloc.decode("ascii")
    request.headers["BhRestToken"] = session.rest_token

