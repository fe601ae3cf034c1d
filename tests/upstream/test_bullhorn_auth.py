from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from insight.domain.session import BullhornSession, MemoryVault
from insight.upstream.bullhorn.auth import IDEMPOTENT, BullhornAuth
from insight.upstream.bullhorn.login import BullhornCredentials
from insight.upstream.errors import AuthenticationFailed, SessionExpiredDuringWrite, UpstreamUnavailable
from sandbox.bullhorn import BullhornSandbox, BullhornSandboxConfig, create_bullhorn_app
from sandbox.readings import LoginHost, SessionTtl
from shared.settings import Secret
from tests.clocks import FakeClock
from tests.readings_kit import both_readings

REST_ROOT = "http://127.0.0.1/rest-services"
T0 = 1_800_000_000.0
CORP_REST_URL = f"{REST_ROOT}/corp7/"
CREDENTIALS = BullhornCredentials(REST_ROOT, "client-1", Secret("secret-1"), "api.user", Secret("pw-1"))
EXPIRED = {"errorMessage": "Bad 'BhRestToken' or timed-out.",
           "errorMessageKey": "errors.authentication.invalidRestToken", "errorCode": 401}


class FakeBullhorn:
    """Bullhorn's login endpoints and one REST root: single-use codes/tokens, sessions that expire."""

    def __init__(self, clock: FakeClock, *, session_lifetime_s: float = 600.0) -> None:
        self.clock = clock
        self.session_lifetime_s = session_lifetime_s
        self.codes: set[str] = set()
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.sessions: dict[str, float] = {}
        self.calls: Counter[str] = Counter()
        #: endpoint -> answers to give before behaving normally ("401 once, then 200")
        self.scripted: dict[str, list[httpx.Response]] = {}
        self._ids = itertools.count(1)

    def expire_sessions(self) -> None:
        self.sessions.clear()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let concurrent requests interleave, as over a network
        endpoint = self._endpoint(request)
        self.calls[endpoint] += 1
        if self.scripted.get(endpoint):
            return self.scripted[endpoint].pop(0)
        params = request.url.params
        if endpoint == "loginInfo":
            return httpx.Response(200, json={"oauthUrl": "http://127.0.0.2/oauth", "restUrl": REST_ROOT,
                                             "atsUrl": "http://127.0.0.4"})
        if endpoint == "authorize":
            if params.get("password") != "pw-1":
                return httpx.Response(200, html="<form>Invalid credentials. Please try again.</form>")
            code = self._new(self.codes, "code")
            location = f"https://www.bullhorn.com/?code={code.replace(':', '%3A')}&client_id=client-1"
            return httpx.Response(302, headers={"Location": location})
        if endpoint.startswith("token"):
            if params.get("client_secret") != "secret-1":
                return httpx.Response(401, json={"error": "invalid_client", "error_description": "Bad client"})
            pool, key = (self.codes, "code") if params["grant_type"] == "authorization_code" else (
                self.refresh_tokens, "refresh_token")
            if params.get(key) not in pool:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "spent"})
            pool.discard(params[key])
            return httpx.Response(200, json={"access_token": self._new(self.access_tokens, "access"),
                                             "refresh_token": self._new(self.refresh_tokens, "refresh")})
        if endpoint == "login":
            if params.get("access_token") not in self.access_tokens:
                return httpx.Response(400, json={"errorMessage": "Invalid or expired OAuth access token."})
            self.access_tokens.discard(params["access_token"])
            token = f"bh-{next(self._ids)}"
            self.sessions[token] = self.clock() + self.session_lifetime_s
            return httpx.Response(200, json={"BhRestToken": token, "restUrl": CORP_REST_URL})
        expires_at = self.sessions.get(request.headers.get("BhRestToken", ""))
        if expires_at is None or expires_at <= self.clock():
            return httpx.Response(401, json=EXPIRED)
        if endpoint == "ping":
            return httpx.Response(200, json={"sessionExpires": int(expires_at * 1000)})
        return httpx.Response(200, json={"data": {"id": 1}, "token": request.headers["BhRestToken"]})

    def _new(self, pool: set[str], prefix: str) -> str:
        value = f"7:{prefix}-{next(self._ids)}"
        pool.add(value)
        return value

    @staticmethod
    def _endpoint(request: httpx.Request) -> str:
        path = request.url.path
        if path.endswith("/token"):
            return f"token:{request.url.params.get('grant_type')}"
        for name in ("loginInfo", "authorize", "login", "ping"):
            if path.endswith("/" + name):
                return name
        return f"{request.method} {path.removeprefix('/rest-services/corp7/')}"


@asynccontextmanager
async def auth_for(fake: FakeBullhorn, vault: MemoryVault | None = None) -> AsyncIterator[BullhornAuth]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as auth_http:
        yield BullhornAuth(CREDENTIALS, vault or MemoryVault(), auth_http, clock=fake.clock)


async def get(fake: FakeBullhorn, auth: BullhornAuth, path: str = "entity/Candidate/1") -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        return await http.get(f"bullhorn://rest/{path}", auth=auth)


@pytest.mark.anyio
async def test_the_first_request_logs_in_and_is_sent_to_the_rest_url_with_the_token() -> None:
    fake, vault = FakeBullhorn(FakeClock(T0)), MemoryVault()
    async with auth_for(fake, vault) as auth:
        response = await get(fake, auth, "entity/Candidate/1?fields=id")
    assert response.status_code == 200
    assert str(response.request.url) == f"{CORP_REST_URL}entity/Candidate/1?fields=id"
    assert response.request.headers["Host"] == "127.0.0.1"
    stored = await vault.load()
    assert stored is not None and response.request.headers["BhRestToken"] == stored.rest_token
    assert stored.rest_url == CORP_REST_URL and stored.oauth_url == "http://127.0.0.2/oauth"
    assert stored.ats_url == "http://127.0.0.4" and stored.refresh_token in fake.refresh_tokens
    assert stored.expires_at == fake.clock() + 600
    assert (auth.logins, auth.refreshes) == (1, 0)


@pytest.mark.anyio
async def test_a_session_already_in_the_vault_is_used_without_logging_in() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    fake.sessions["bh-shared"] = fake.clock() + 600
    vault = MemoryVault(BullhornSession("bh-shared", CORP_REST_URL, expires_at=fake.clock() + 600))
    async with auth_for(fake, vault) as auth:
        response = await get(fake, auth)
    assert response.json()["token"] == "bh-shared" and fake.calls["login"] == 0


@pytest.mark.anyio
async def test_a_401_mid_run_renews_the_session_once_and_the_read_succeeds() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    async with auth_for(fake) as auth:
        first = await get(fake, auth)
        fake.expire_sessions()
        second = await get(fake, auth)
    assert second.status_code == 200 and second.json()["token"] != first.json()["token"]
    assert (auth.logins, auth.refreshes) == (1, 1)
    assert fake.calls["GET entity/Candidate/1"] == 3


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["clock passes expires_at", "Bullhorn answers 401"])
async def test_ten_concurrent_requests_during_expiry_renew_the_session_once(how: str) -> None:
    fake = FakeBullhorn(FakeClock(T0))
    async with auth_for(fake) as auth:
        await get(fake, auth)
        if how == "clock passes expires_at":
            fake.clock.now += 601
        else:
            fake.expire_sessions()
        responses = await asyncio.gather(*(get(fake, auth) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert fake.calls["token:refresh_token"] == 1 and fake.calls["login"] == 2


@pytest.mark.anyio
async def test_a_spent_refresh_token_falls_back_to_the_password_flow() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    stale = BullhornSession("bh-old", CORP_REST_URL, refresh_token="7:already-spent",
                            oauth_url="http://127.0.0.2/oauth", expires_at=fake.clock() - 1)
    vault = MemoryVault(stale)
    async with auth_for(fake, vault) as auth:
        response = await get(fake, auth)
    stored = await vault.load()
    assert response.status_code == 200 and fake.calls["token:refresh_token"] == 1
    assert (auth.logins, auth.refreshes) == (1, 0)
    assert stored is not None and stored.refresh_token in fake.refresh_tokens


@pytest.mark.anyio
async def test_the_stored_refresh_token_is_replaced_after_each_refresh() -> None:
    fake, vault = FakeBullhorn(FakeClock(T0)), MemoryVault()
    seen = []
    async with auth_for(fake, vault) as auth:
        for _ in range(3):
            await get(fake, auth)
            stored = await vault.load()
            assert stored is not None
            seen.append(stored.refresh_token)
            fake.clock.now += 601
    assert len(set(seen)) == 3 and (auth.logins, auth.refreshes) == (1, 2)
    assert fake.refresh_tokens == {seen[-1]}  # every earlier one was spent


@pytest.mark.anyio
async def test_the_new_refresh_token_is_saved_before_the_rest_login_that_may_fail() -> None:
    fake, vault = FakeBullhorn(FakeClock(T0)), MemoryVault()
    async with auth_for(fake, vault) as auth:
        await get(fake, auth)
        fake.clock.now += 601
        fake.scripted["login"] = [httpx.Response(503, json={"errorMessage": "Maintenance"})]
        with pytest.raises(UpstreamUnavailable):
            await get(fake, auth)
        stored = await vault.load()
        assert stored is not None and stored.refresh_token in fake.refresh_tokens
        assert (await get(fake, auth)).status_code == 200
    assert (auth.logins, auth.refreshes) == (1, 1)


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["clock passes expires_at", "Bullhorn answers 401"])
async def test_two_processes_sharing_a_vault_renew_the_session_once(how: str) -> None:
    fake, vault = FakeBullhorn(FakeClock(T0)), MemoryVault()
    async with auth_for(fake, vault) as one, auth_for(fake, vault) as two:
        await get(fake, one)
        await get(fake, two)
        if how == "clock passes expires_at":
            fake.clock.now += 601
        else:
            fake.expire_sessions()
        responses = await asyncio.gather(*(get(fake, auth) for auth in (one, two, one, two)))
    assert {r.json()["token"] for r in responses} == {(await vault.load()).rest_token}  # type: ignore[union-attr]
    assert fake.calls["login"] == 2 and one.logins + two.logins == 1
    assert one.refreshes + two.refreshes == 1


@pytest.mark.anyio
async def test_a_note_put_hitting_401_renews_the_session_but_is_not_resent() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    async with auth_for(fake) as auth, httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        await get(fake, auth)
        fake.expire_sessions()
        request = http.build_request("PUT", "bullhorn://rest/entity/Note", json={"comments": "x"},
                                     extensions={IDEMPOTENT: False})
        with pytest.raises(SessionExpiredDuringWrite) as raised:
            await http.send(request, auth=auth)
        renewed = await get(fake, auth)
    assert fake.calls["PUT entity/Note"] == 1 and raised.value.status_code == 401
    assert renewed.status_code == 200 and auth.refreshes == 1 and fake.calls["token:refresh_token"] == 1


@pytest.mark.anyio
async def test_a_401_after_renewing_the_session_raises_authentication_failed() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    fake.scripted["GET entity/Candidate/1"] = [httpx.Response(401, json=EXPIRED)] * 2
    async with auth_for(fake) as auth:
        with pytest.raises(AuthenticationFailed) as raised:
            await get(fake, auth)
    assert raised.value.error_key == "errors.authentication.invalidRestToken"
    assert (auth.logins, auth.refreshes) == (1, 1)


@pytest.mark.anyio
async def test_a_refused_password_raises_authentication_failed_naming_the_settings() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    credentials = BullhornCredentials(REST_ROOT, "client-1", Secret("secret-1"), "api.user", Secret("wrong"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as auth_http:
        auth = BullhornAuth(credentials, MemoryVault(), auth_http, clock=fake.clock)
        with pytest.raises(AuthenticationFailed, match="BULLHORN_PASSWORD") as raised:
            await auth.session()
    assert raised.value.status_code == 200 and "wrong" not in str(raised.value)


@pytest.mark.anyio
async def test_a_refused_client_secret_raises_authentication_failed_naming_the_settings() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    credentials = BullhornCredentials(REST_ROOT, "client-1", Secret("nope"), "api.user", Secret("pw-1"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as auth_http:
        auth = BullhornAuth(credentials, MemoryVault(), auth_http, clock=fake.clock)
        with pytest.raises(AuthenticationFailed, match="BULLHORN_CLIENT_SECRET") as raised:
            await auth.session()
    assert raised.value.error_key == "invalid_client"


@pytest.mark.anyio
async def test_a_wrong_data_centre_redirect_on_login_is_followed_with_its_parameters() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    fake.scripted["loginInfo"] = [httpx.Response(307, headers={"Location": "http://127.0.0.3/rest-services/loginInfo"})]
    async with auth_for(fake) as auth:
        session = await auth.session()
    assert session.rest_url == CORP_REST_URL and fake.calls["loginInfo"] == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    "location",
    ["https://evil.example/rest-services/loginInfo", "http://rest-west.bullhornstaffing.com/rest-services/loginInfo",
     "https://bullhornstaffing.com.evil.example/rest-services/loginInfo", "ftp://127.0.0.1.evil.example/loginInfo"],
)
async def test_a_redirect_off_bullhorn_or_off_https_is_refused_and_nothing_is_sent_there(location: str) -> None:
    fake = FakeBullhorn(FakeClock(T0))
    fake.scripted["loginInfo"] = [httpx.Response(307, headers={"Location": location})]
    async with auth_for(fake) as auth:
        with pytest.raises(AuthenticationFailed, match="BULLHORN_REST_URL"):
            await auth.session()
    assert fake.calls["loginInfo"] == 1 and fake.calls["authorize"] == 0


@pytest.mark.anyio
@pytest.mark.parametrize("oauth_url", ["https://login.evil.example/oauth", "http://auth-west.bullhornstaffing.com/oauth"])
async def test_an_oauth_url_off_bullhorn_or_off_https_never_receives_the_password(oauth_url: str) -> None:
    fake = FakeBullhorn(FakeClock(T0))
    fake.scripted["loginInfo"] = [httpx.Response(200, json={"oauthUrl": oauth_url, "restUrl": REST_ROOT})]
    async with auth_for(fake) as auth:
        with pytest.raises(AuthenticationFailed, match="only https on"):
            await auth.session()
    assert fake.calls["authorize"] == 0


@pytest.mark.anyio
async def test_https_on_a_bullhorn_data_centre_is_followed() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    location = "https://rest-west.bullhornstaffing.com/rest-services/loginInfo"
    fake.scripted["loginInfo"] = [httpx.Response(307, headers={"Location": location})]
    async with auth_for(fake) as auth:
        session = await auth.session()
    assert session.rest_url == CORP_REST_URL and fake.calls["loginInfo"] == 2


@pytest.mark.anyio
async def test_bullhorn_unreachable_during_login_raises_upstream_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as auth_http:
        auth = BullhornAuth(CREDENTIALS, MemoryVault(), auth_http)
        with pytest.raises(UpstreamUnavailable, match="could not be reached"):
            await auth.session()


@pytest.mark.anyio
async def test_a_request_not_addressed_to_the_rest_origin_is_refused() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    async with auth_for(fake) as auth, httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        with pytest.raises(ValueError, match="bullhorn://rest/"):
            await http.get("http://elsewhere.test/steal", auth=auth)
    assert sum(fake.calls.values()) == 0


SANDBOX_CREDENTIALS = BullhornCredentials("http://127.0.0.1/rest-services", "callbridge-demo",
                                          Secret("demo-secret"), "northwind.api", Secret("demo-password"))


@dataclass
class SandboxRig:
    http: httpx.AsyncClient
    auth_http: httpx.AsyncClient
    sandbox: BullhornSandbox
    clock: FakeClock

    def auth(self, vault: MemoryVault | None = None) -> BullhornAuth:
        return BullhornAuth(SANDBOX_CREDENTIALS, vault or MemoryVault(), self.auth_http, clock=self.clock)


@asynccontextmanager
async def on_sandbox(clock: FakeClock, **config: Any) -> AsyncIterator[SandboxRig]:
    app = create_bullhorn_app(config=BullhornSandboxConfig(session_lifetime_s=3600, clock=clock, **config))
    transport = httpx.ASGITransport(app=app)
    async with (httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http,
                httpx.AsyncClient(transport=transport) as auth_http):
        yield SandboxRig(http, auth_http, app.state.sandbox, clock)


@pytest.mark.anyio
async def test_the_full_login_flow_works_against_the_sandbox() -> None:
    clock = FakeClock(T0)
    async with on_sandbox(clock) as rig:
        auth = rig.auth()
        session = await auth.session()
        response = await rig.http.get("bullhorn://rest/settings/commentActionList", auth=auth)
    assert session.rest_url == "http://127.0.0.1/rest-services/nw7k2/"
    assert session.ats_url == "http://127.0.0.1/ats" and session.oauth_url == "http://127.0.0.1/oauth"
    assert session.refresh_token in rig.sandbox.auth.refresh_tokens
    assert session.expires_at == pytest.approx(clock() + 3600, abs=1)
    assert response.status_code == 200 and "Outbound Call" in response.json()["commentActionList"]
    assert rig.sandbox.auth.logins == 1 and auth.logins == 1


@pytest.mark.anyio
async def test_a_sandbox_session_expiring_mid_run_is_refreshed_once_for_ten_concurrent_reads() -> None:
    async with on_sandbox(FakeClock(T0)) as rig:
        auth = rig.auth()
        await auth.session()
        assert (await rig.http.post("/_sandbox/expire-sessions")).status_code == 200
        responses = await asyncio.gather(*(rig.http.get("bullhorn://rest/ping", auth=auth) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert rig.sandbox.auth.logins == 2 and (auth.logins, auth.refreshes) == (1, 1)


@pytest.mark.anyio
async def test_a_refresh_token_the_sandbox_already_spent_falls_back_to_the_password_flow() -> None:
    clock = FakeClock(T0)
    async with on_sandbox(clock) as rig:
        first = rig.auth()
        copied = await first.session()
        await rig.http.post("/_sandbox/expire-sessions")
        assert (await rig.http.get("bullhorn://rest/ping", auth=first)).status_code == 200  # spends the token
        second = rig.auth(MemoryVault(replace(copied, expires_at=clock() - 1)))
        session = await second.session()
    assert first.refreshes == 1 and (second.logins, second.refreshes) == (1, 0)
    assert rig.sandbox.auth.logins == 3 and session.refresh_token in rig.sandbox.auth.refresh_tokens


# DESIGN §10: /login on the refreshed restUrl's host or only loginInfo's; `ttl` honoured or ignored.


login_host = both_readings("login_host")
session_ttl = both_readings("session_ttl")


@pytest.mark.anyio
async def test_a_refresh_logs_in_on_the_host_login_info_named_not_the_sessions_rest_host(login_host: LoginHost) -> None:
    async with on_sandbox(FakeClock(T0), login_host=login_host, rest_host="127.0.0.5") as rig:
        auth = rig.auth()
        first = await auth.session()
        await rig.http.post("/_sandbox/expire-sessions")
        response = await rig.http.get("bullhorn://rest/ping", auth=auth)
    assert first.rest_url == "http://127.0.0.5/rest-services/nw7k2/"
    assert response.status_code == 200 and response.url.host == "127.0.0.5"
    # refreshed, not logged in again with the password: the refresh token worked on the right host
    assert (auth.logins, auth.refreshes) == (1, 1)


@pytest.mark.anyio
async def test_every_login_asks_for_bullhorns_longest_session_and_trusts_only_ping(session_ttl: SessionTtl) -> None:
    clock = FakeClock(T0)
    async with on_sandbox(clock, session_ttl=session_ttl) as rig:
        auth = rig.auth()
        session = await auth.session()
        clock.advance(3000)
        response = await rig.http.get("bullhorn://rest/ping", auth=auth)
    lifetime_s = 2880 * 60 if session_ttl == "honoured" else 3600
    assert session.expires_at == T0 + lifetime_s
    assert response.status_code == 200 and auth.logins == 1


@pytest.mark.anyio
async def test_after_a_refused_login_nothing_is_asked_of_bullhorn_until_the_backoff_has_passed() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    wrong = BullhornCredentials(REST_ROOT, "client-1", Secret("secret-1"), "api.user", Secret("rotated"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as auth_http:
        auth = BullhornAuth(wrong, MemoryVault(), auth_http, clock=fake.clock, login_backoff_s=60)
        for _ in range(5):
            with pytest.raises(AuthenticationFailed, match="BULLHORN_PASSWORD"):
                await auth.session()
        assert fake.calls["authorize"] == 1 and (await auth.status()).failure is not None
        fake.clock.advance(61)
        with pytest.raises(AuthenticationFailed):
            await auth.session()
    assert fake.calls["authorize"] == 2


@pytest.mark.anyio
async def test_an_unreachable_bullhorn_during_login_is_tried_again_at_once() -> None:
    fake = FakeBullhorn(FakeClock(T0))
    fake.scripted["loginInfo"] = [httpx.Response(503)]
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as auth_http:
        auth = BullhornAuth(CREDENTIALS, MemoryVault(), auth_http, clock=fake.clock, login_backoff_s=60)
        with pytest.raises(UpstreamUnavailable):
            await auth.session()
        session = await auth.session()
    assert session.rest_url == CORP_REST_URL and fake.calls["loginInfo"] == 2
