from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from sandbox.aircall import AircallSandboxConfig, create_aircall_app
from sandbox.calls import CallKind, CallScript, final_call
from sandbox.people import AGENTS, LINES, TAGS
from sandbox.readings import ResetUnit
from tests.clocks import FakeClock

AUTH = ("demo-api-id", "demo-api-token")
BASE = "http://aircall.test"
T0 = 1_764_000_000.0


def client_for(app: Starlette, auth: tuple[str, str] | None = AUTH) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, auth=auth)


def a_call(call_id: int = 555) -> dict[str, Any]:
    return final_call(CallScript(call_id=call_id, kind=CallKind.INBOUND_ANSWERED, agent=AGENTS[0], line=LINES[0],
                                 raw_digits="+1 415-555-0100", started_at=1_764_000_000, talk_s=60))


@pytest.mark.anyio
async def test_requests_without_or_with_wrong_basic_auth_are_refused_like_aircall():
    app = create_aircall_app()
    async with client_for(app, auth=None) as client:
        missing = await client.get("/v1/ping")
        wrong = await client.get("/v1/ping", auth=("demo-api-id", "nope"))
        garbage = await client.get("/v1/ping", headers={"authorization": "Basic %%%"})
        internal = await client.get("/_sandbox/cards")
        good = await client.get("/v1/ping", auth=AUTH)
    for response in (missing, wrong, garbage, internal):
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized" and response.json()["troubleshoot"]
    assert good.json() == {"ping": "pong"}


@pytest.mark.anyio
@pytest.mark.parametrize(("unit", "per_second"), [("seconds", 1), ("milliseconds", 1000)])
async def test_rate_limit_headers_count_down_then_429_then_recover_after_the_reset(unit: ResetUnit,
                                                                                   per_second: int) -> None:
    clock = FakeClock(T0)
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=3, clock=clock, reset_unit=unit))
    async with client_for(app) as client:
        answers = [await client.get("/v1/ping") for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert [r.headers["X-AircallApi-Remaining"] for r in answers] == ["2", "1", "0", "0"]
        assert {r.headers["X-AircallApi-Limit"] for r in answers} == {"3"}
        reset = int(answers[0].headers["X-AircallApi-Reset"]) / per_second
        assert reset == 1_764_000_060
        assert answers[3].json()["error"] == "Too Many Requests"
        assert (await client.get("/_sandbox/cards")).status_code == 200
        clock.now = reset - 1
        assert (await client.get("/v1/users")).status_code == 429
        clock.now = reset
        recovered = await client.get("/v1/users")
    assert recovered.status_code == 200
    assert recovered.headers["X-AircallApi-Remaining"] == "2"
    assert int(recovered.headers["X-AircallApi-Reset"]) / per_second == reset + 60


@pytest.mark.anyio
async def test_no_rate_limit_when_requests_per_minute_is_none():
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    async with client_for(app) as client:
        answers = [await client.get("/v1/ping") for _ in range(70)]
    assert {r.status_code for r in answers} == {200}
    assert "X-AircallApi-Limit" not in answers[0].headers


@pytest.mark.anyio
async def test_lists_are_paginated_with_aircall_meta_and_per_page_capped_at_50():
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    async with client_for(app) as client:
        first = (await client.get("/v1/users", params={"per_page": 5})).json()
        last = (await client.get("/v1/users", params={"per_page": 5, "page": 3})).json()
        capped = (await client.get("/v1/tags", params={"per_page": 500})).json()
        bad = await client.get("/v1/users", params={"page": "zero"})
        numbers = (await client.get("/v1/numbers")).json()
    assert first["meta"] == {
        "count": 5, "total": len(AGENTS), "current_page": 1, "per_page": 5,
        "next_page_link": f"{BASE}/v1/users?page=2&per_page=5", "previous_page_link": None,
    }
    assert set(first["users"][0]) == {"id", "direct_link", "name", "email", "available", "availability_status",
                                      "language", "time_zone", "wrap_up_time", "created_at"}
    assert last["meta"]["count"] == len(AGENTS) - 10 and last["meta"]["next_page_link"] is None
    previous = httpx.URL(last["meta"]["previous_page_link"])
    assert previous.path == "/v1/users" and dict(previous.params) == {"page": "2", "per_page": "5"}
    assert capped["meta"]["per_page"] == 50 and len(capped["tags"]) == len(TAGS)
    assert set(capped["tags"][0]) == {"id", "direct_link", "name", "color", "description"}
    assert bad.status_code == 400 and "page" in bad.json()["troubleshoot"]
    assert [n["name"] for n in numbers["numbers"]] == [line.name for line in LINES]


@pytest.mark.anyio
async def test_single_resources_and_unknown_ids():
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    async with client_for(app) as client:
        user = await client.get(f"/v1/users/{AGENTS[2].aircall_id}")
        number = await client.get(f"/v1/numbers/{LINES[1].id}")
        missing_user = await client.get("/v1/users/1")
        missing_call = await client.get("/v1/calls/999")
        nowhere = await client.get("/v1/nowhere")
    assert user.json()["user"]["email"] == AGENTS[2].aircall_email
    assert number.json()["number"]["digits"] == LINES[1].digits
    for response in (missing_user, missing_call, nowhere):
        assert response.status_code == 404 and response.json()["error"] == "Not found"


@pytest.mark.anyio
async def test_a_registered_call_is_served_and_replaced():
    app = create_aircall_app()
    call = a_call()
    async with client_for(app) as client:
        assert (await client.post("/_sandbox/calls", json={"call": call})).status_code == 201
        served = await client.get("/v1/calls/555")
        assert served.json() == {"call": call}
        await client.post("/_sandbox/calls", json={**call, "archived": True})
        assert (await client.get("/v1/calls/555")).json()["call"]["archived"] is True
        refused = await client.post("/_sandbox/calls", json={"call": {"id": "x"}})
    assert refused.status_code == 400


CARD = {"contents": [
    {"type": "title", "text": "Ada Lovelace", "link": "https://bullhorn.example/Candidate/42"},
    {"type": "shortText", "label": "Owner", "text": "Grace Hopper"},
]}


@pytest.mark.parametrize(("body", "named"), [
    ({}, "contents"),
    ({"contents": []}, "contents"),
    ({"cards": [{"type": "title", "text": "x"}]}, "cards"),
    ({"contents": [{"type": "user", "text": "x"}]}, "contents[0].type"),
    ({"contents": [{"type": "title", "text": "ok"}, {"type": "shortText", "text": ""}]}, "contents[1].text"),
    ({"contents": [{"type": "title", "text": "x", "label": 3}]}, "contents[0].label"),
    ({"contents": [{"type": "title", "text": "x", "link": "javascript:alert(1)"}]}, "contents[0].link"),
    ({"contents": [{"type": "title", "text": "x", "user_id": 1}]}, "contents[0].user_id"),
    ({"contents": ["title"]}, "contents[0]"),
])
@pytest.mark.anyio
async def test_an_invalid_card_is_refused_with_400_naming_the_problem(body, named):
    app = create_aircall_app()
    async with client_for(app) as client:
        await client.post("/_sandbox/calls", json=a_call())
        response = await client.post("/v1/calls/555/insight_cards", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"
    assert named in response.json()["troubleshoot"]
    assert app.state.sandbox.cards == []


@pytest.mark.anyio
async def test_cards_are_accepted_with_201_and_every_one_is_recorded_with_its_time():
    clock = FakeClock(T0)
    app = create_aircall_app(AircallSandboxConfig(clock=clock))
    async with client_for(app) as client:
        await client.post("/_sandbox/calls", json=a_call(555))
        await client.post("/_sandbox/calls", json=a_call(556))
        first = await client.post("/v1/calls/555/insight_cards", json=CARD)
        clock.now += 2
        await client.post("/v1/calls/555/insight_cards", json=CARD)
        await client.post("/v1/calls/556/insight_cards", json=CARD)
        unknown = await client.post("/v1/calls/404/insight_cards", json=CARD)
        not_json = await client.post("/v1/calls/555/insight_cards", content=b"{nope")
        for_555 = (await client.get("/_sandbox/cards", params={"call_id": 555})).json()["cards"]
        everything = (await client.get("/_sandbox/cards")).json()["cards"]
        await client.post("/_sandbox/reset")
        after_reset = (await client.get("/_sandbox/cards")).json()["cards"]
    assert first.status_code == 201
    assert unknown.status_code == 404
    assert not_json.status_code == 400
    assert [card["received_at"] for card in for_555] == [clock.now - 2, clock.now]
    assert all(card["contents"] == CARD["contents"] and card["call_id"] == 555 for card in for_555)
    assert len(everything) == 3
    assert after_reset == []


@pytest.mark.anyio
async def test_config_can_be_read_and_patched_and_faults_are_seeded_per_endpoint():
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    async with client_for(app) as client:
        await client.post("/_sandbox/calls", json=a_call())
        patched = await client.patch("/_sandbox/config", json={
            "error_rates": {"POST calls/*/insight_cards": 0.5}, "fault_seed": 11})
        refused = await client.patch("/_sandbox/config", json={"api_token": "stolen"})
        wrong_type = await client.patch("/_sandbox/config", json={"latency_ms": "slow"})
        statuses = [(await client.post("/v1/calls/555/insight_cards", json=CARD)).status_code for _ in range(20)]
        pings = [(await client.get("/v1/ping")).status_code for _ in range(5)]
        await client.patch("/_sandbox/config", json={"fault_seed": 11})
        again = [(await client.post("/v1/calls/555/insight_cards", json=CARD)).status_code for _ in range(20)]
    assert patched.json()["error_rates"] == {"POST calls/*/insight_cards": 0.5}
    assert refused.status_code == 400 and "api_token" in refused.json()["troubleshoot"]
    assert wrong_type.status_code == 400
    assert set(statuses) == {201, 503}
    assert statuses == again
    assert pings == [200] * 5
    assert len(app.state.sandbox.cards) == 2 * statuses.count(201)
