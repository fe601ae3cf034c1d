from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from insight.upstream.aircall import DEFAULT_WAIT_BUDGET, AircallClient, open_aircall
from insight.upstream.errors import AuthenticationFailed, UpstreamRejected, UpstreamUnavailable
from insight.upstream.retry import WaitBudget
from sandbox.aircall import AircallSandbox, AircallSandboxConfig, create_aircall_app
from sandbox.readings import ResetUnit
from shared.settings import Secret, Settings
from tests.clocks import FakeClock
from tests.readings_kit import both_readings

NOW = 1_800_000_000.0
Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps:
    """Records each wait and moves the fake clock on by it, so no test really sleeps."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.now += seconds


class Scripted:
    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


@asynccontextmanager
async def aircall_for(handler: Handler, clock: FakeClock | None = None,
                      rate_limit: WaitBudget = DEFAULT_WAIT_BUDGET) -> AsyncIterator[tuple[AircallClient, Sleeps]]:
    clock = clock or FakeClock(NOW)
    sleeps = Sleeps(clock)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = AircallClient(http, api_id="id-1", api_token=Secret("token-1"), base_url="https://aircall.test/",
                               sleep=sleeps, clock=clock, rate_limit=rate_limit)
        yield client, sleeps


def quota(remaining: int, reset_in_s: float) -> dict[str, str]:
    return {"X-AircallApi-Limit": "60", "X-AircallApi-Remaining": str(remaining),
            "X-AircallApi-Reset": str(int(NOW + reset_in_s))}


@pytest.mark.anyio
async def test_requests_carry_basic_auth_from_the_api_id_and_token() -> None:
    server = Scripted(httpx.Response(200, json={"ping": "pong"}))
    async with aircall_for(server) as (client, _):
        assert await client.ping() == {"ping": "pong"}
    request = server.requests[0]
    assert str(request.url) == "https://aircall.test/v1/ping"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"id-1:token-1").decode()


@pytest.mark.anyio
async def test_an_insight_card_is_posted_as_contents_lines() -> None:
    server = Scripted(httpx.Response(201))
    lines = [{"type": "title", "text": "Ada Lovelace", "link": "https://bh.test/c/42"},
             {"type": "shortText", "label": "Owner", "text": "Grace Hopper"}]
    async with aircall_for(server) as (client, _):
        await client.push_insight_card(123, lines)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/calls/123/insight_cards")
    assert json.loads(request.content) == {"contents": lines}


@pytest.mark.anyio
async def test_get_call_unwraps_the_call_object() -> None:
    server = Scripted(httpx.Response(200, json={"call": {"id": 9, "direction": "inbound"}}))
    async with aircall_for(server) as (client, _):
        assert await client.get_call(9) == {"id": 9, "direction": "inbound"}


@pytest.mark.anyio
async def test_a_spent_quota_waits_until_the_reset_before_the_next_request() -> None:
    server = Scripted(httpx.Response(200, json={"call": {"id": 1}}, headers=quota(0, 5)),
                      httpx.Response(200, json={"call": {"id": 2}}, headers=quota(59, 60)))
    async with aircall_for(server) as (client, sleeps):
        await client.get_call(1)
        assert sleeps.calls == []
        await client.get_call(2)
        await client.get_call(3)
    assert sleeps.calls == [5.0] and len(server.requests) == 3


@pytest.mark.anyio
async def test_a_quota_reset_too_far_away_raises_instead_of_blocking() -> None:
    server = Scripted(httpx.Response(200, json={"call": {"id": 1}}, headers=quota(0, 45)))
    async with aircall_for(server, rate_limit=WaitBudget(max_waits=3, max_total_s=10)) as (client, sleeps):
        await client.get_call(1)
        with pytest.raises(UpstreamUnavailable, match="rate limited") as raised:
            await client.get_call(2)
    assert sleeps.calls == [] and raised.value.retry_after_s == 45.0 and len(server.requests) == 1


@pytest.mark.anyio
async def test_a_429_waits_for_retry_after_then_retries() -> None:
    server = Scripted(httpx.Response(429, json={"error": "Too Many Requests"}, headers={"Retry-After": "2"}),
                      httpx.Response(201))
    async with aircall_for(server) as (client, sleeps):
        await client.push_insight_card(5, [{"type": "title", "text": "x"}])
    assert sleeps.calls == [2.0] and len(server.requests) == 2


@pytest.mark.anyio
async def test_a_429_past_the_budget_raises_upstream_unavailable() -> None:
    server = Scripted(httpx.Response(429, json={"error": "Too Many Requests"}, headers=quota(0, 3)))
    async with aircall_for(server, rate_limit=WaitBudget(max_waits=2, max_total_s=30)) as (client, sleeps):
        with pytest.raises(UpstreamUnavailable) as raised:
            await client.get_call(5)
    assert raised.value.status_code == 429 and len(sleeps.calls) == 2 and len(server.requests) == 3


@pytest.mark.anyio
async def test_a_404_is_an_unknown_call() -> None:
    server = Scripted(httpx.Response(404, json={"error": "Not Found", "troubleshoot": "Call not found"}))
    async with aircall_for(server) as (client, _):
        with pytest.raises(UpstreamRejected, match="does not know this call") as raised:
            await client.get_call(404)
    assert (raised.value.status_code, raised.value.error_key) == (404, "Not Found")


@pytest.mark.anyio
async def test_a_refused_card_is_rejected_with_aircalls_words() -> None:
    server = Scripted(httpx.Response(422, json={"error": "Unprocessable Entity", "troubleshoot": "contents: bad"}))
    async with aircall_for(server) as (client, _):
        with pytest.raises(UpstreamRejected, match="contents: bad"):
            await client.push_insight_card(1, [{"type": "nope"}])


@pytest.mark.anyio
async def test_a_401_is_an_authentication_failure_naming_the_settings() -> None:
    server = Scripted(httpx.Response(401, json={"error": "Unauthorized"}))
    async with aircall_for(server) as (client, _):
        with pytest.raises(AuthenticationFailed, match="AIRCALL_API_TOKEN"):
            await client.ping()


@pytest.mark.anyio
async def test_a_5xx_or_an_unreachable_aircall_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with aircall_for(Scripted(httpx.Response(502))) as (client, _):
        with pytest.raises(UpstreamUnavailable, match="HTTP 502"):
            await client.ping()
    async with aircall_for(refuse) as (client, _):
        with pytest.raises(UpstreamUnavailable, match="ConnectError"):
            await client.ping()


@pytest.mark.anyio
async def test_lists_follow_next_page_links_fifty_at_a_time_on_our_own_host() -> None:
    def page(users: list[int], next_link: str | None) -> httpx.Response:
        return httpx.Response(200, json={"users": [{"id": i} for i in users],
                                         "meta": {"per_page": 50, "next_page_link": next_link}})

    server = Scripted(page([1, 2], "https://elsewhere.test/v1/users?page=2&per_page=50"), page([3], None))
    async with aircall_for(server) as (client, _):
        assert await client.list_users() == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert [str(r.url) for r in server.requests] == ["https://aircall.test/v2/users?page=1&per_page=50",
                                                     "https://aircall.test/v2/users?page=2&per_page=50"]


@pytest.mark.anyio
async def test_open_aircall_builds_a_client_from_settings_that_works_on_the_sandbox() -> None:
    settings = Settings(aircall_api_url="http://aircall.test", aircall_api_id="demo-api-id",
                        aircall_api_token=Secret("demo-api-token"))
    transport = httpx.ASGITransport(app=create_aircall_app(AircallSandboxConfig(requests_per_minute=None)))
    async with open_aircall(settings, transport=transport) as client:
        assert await client.ping() == {"ping": "pong"}
        tags = await client.list_tags()
        users = await client.list_users()
    assert tags and all("name" in tag for tag in tags)
    assert users and all("email" in user for user in users)


@pytest.mark.anyio
async def test_wrong_credentials_on_the_aircall_sandbox_are_an_authentication_failure() -> None:
    settings = Settings(aircall_api_url="http://aircall.test", aircall_api_id="demo-api-id",
                        aircall_api_token=Secret("wrong"))
    transport = httpx.ASGITransport(app=create_aircall_app())
    async with open_aircall(settings, transport=transport) as client:
        with pytest.raises(AuthenticationFailed, match="AIRCALL_API_ID"):
            await client.ping()


# DESIGN §10: X-AircallApi-Reset in epoch seconds or milliseconds; every test below runs under both.
CARD = [{"type": "title", "text": "Ada Lovelace"}]
reset_unit = both_readings("reset_unit")


@asynccontextmanager
async def on_the_sandbox(unit: ResetUnit, clock: FakeClock, *, per_minute: int,
                         ) -> AsyncIterator[tuple[AircallClient, AircallSandbox, list[tuple[float, int]]]]:
    """A client on the Aircall fake sharing its clock; answers (time, status) of every request sent."""
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=per_minute, clock=clock, reset_unit=unit))
    sandbox: AircallSandbox = app.state.sandbox
    for call_id in range(1, 6):
        sandbox.calls[call_id] = {"id": call_id}
    sent: list[tuple[float, int]] = []

    async def record(response: httpx.Response) -> None:
        sent.append((clock.now, response.status_code))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), event_hooks={"response": [record]}) as http:
        client = AircallClient(http, api_id="demo-api-id", api_token="demo-api-token", base_url="http://aircall.test",
                               sleep=Sleeps(clock), clock=clock, rate_limit=WaitBudget(max_waits=3, max_total_s=60))
        yield client, sandbox, sent


@pytest.mark.anyio
async def test_a_spent_quota_holds_card_pushes_until_aircalls_reset_in_either_unit(reset_unit: ResetUnit) -> None:
    clock = FakeClock(NOW)
    async with on_the_sandbox(reset_unit, clock, per_minute=2) as (client, sandbox, sent):
        for call_id in (1, 2, 3, 4):
            await client.push_insight_card(call_id, CARD)
    assert [card["call_id"] for card in sandbox.cards] == [1, 2, 3, 4]
    # the window opened at NOW: the third push waits for NOW + 60, not a second longer, and no 429 was collected
    assert sent == [(NOW, 201), (NOW, 201), (NOW + 60, 201), (NOW + 60, 201)]


@pytest.mark.anyio
async def test_after_a_429_nothing_is_sent_for_any_call_before_the_reset_it_named(reset_unit: ResetUnit) -> None:
    clock = FakeClock(NOW)
    async with on_the_sandbox(reset_unit, clock, per_minute=3) as (client, sandbox, sent):
        # another replica spent the company's quota 20 s ago: the window resets at NOW + 40
        sandbox.window.started_at, sandbox.window.used = NOW - 20, 3
        await client.push_insight_card(1, CARD)
        await client.push_insight_card(2, CARD)
        clock.advance(5)
        await client.push_insight_card(3, CARD)
    assert sent == [(NOW, 429), (NOW + 40, 201), (NOW + 40, 201), (NOW + 45, 201)]
    # the new window (NOW + 40) is spent by those three pushes: the next one waits for its end
    assert client.resume_at == NOW + 100


@pytest.mark.anyio
@pytest.mark.parametrize("reset", ["soon", "garbage", "", "-1", "1e400", "in an hour", "in the past"])
async def test_a_reset_that_makes_no_sense_is_ignored_not_obeyed(reset_unit: ResetUnit, reset: str) -> None:
    scale = 1 if reset_unit == "seconds" else 1000
    value = {"soon": str(int((NOW + 10) * scale)), "in an hour": str(int((NOW + 3600) * scale)),
             "in the past": str(int((NOW - 3600) * scale))}.get(reset, reset)
    headers = {"X-AircallApi-Remaining": "0", "X-AircallApi-Reset": value}
    server = Scripted(httpx.Response(200, json={}, headers=headers), httpx.Response(200, json={}))
    async with aircall_for(server) as (client, sleeps):
        await client.ping()
        await client.ping()
    assert sleeps.calls == ([10.0] if reset == "soon" else [])


@pytest.mark.anyio
async def test_no_reset_holds_requests_longer_than_aircalls_window(reset_unit: ResetUnit) -> None:
    scale = 1 if reset_unit == "seconds" else 1000
    headers = {"X-AircallApi-Remaining": "0", "X-AircallApi-Reset": str(int((NOW + 110) * scale))}
    server = Scripted(httpx.Response(429, json={"error": "Too Many Requests"}, headers=headers),
                      httpx.Response(201))
    async with aircall_for(server, rate_limit=WaitBudget(max_waits=3, max_total_s=120)) as (client, sleeps):
        await client.push_insight_card(1, CARD)
    assert sleeps.calls == [60.0]


@pytest.mark.anyio
async def test_webhooks_and_tags_are_managed_on_the_sandbox_and_an_eventless_webhook_is_never_sent() -> None:
    settings = Settings(aircall_api_url="http://aircall.test", aircall_api_id="demo-api-id",
                        aircall_api_token=Secret("demo-api-token"))
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    async with open_aircall(settings, transport=httpx.ASGITransport(app=app)) as client:
        with pytest.raises(ValueError, match="every Aircall event"):
            await client.create_webhook("https://callbridge.example.com/webhooks/aircall", [], custom_name="x")
        created = await client.create_webhook("https://callbridge.example.com/webhooks/aircall",
                                              ["call.created"], custom_name="callbridge")
        app.state.sandbox.webhooks.webhooks[created["webhook_id"]]["active"] = False
        activated = await client.activate_webhook(created["webhook_id"], ["call.created", "call.ended"])
        listed = await client.list_webhooks()
        tag = await client.create_tag("Outbound Call", color="#0033CC")
        renamed = await client.rename_tag(tag["id"], "Inbound Call")

    assert created["token"] and app.state.sandbox.webhooks.webhooks.keys() == {created["webhook_id"]}
    assert (activated["active"], activated["events"]) == (True, ["call.created", "call.ended"])
    assert [webhook["webhook_id"] for webhook in listed] == [created["webhook_id"]]
    assert renamed == {**tag, "name": "Inbound Call"}
