"""The Aircall fake's delivery rule (reference/aircall-next.md §3) as the simulator meets it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from sandbox.__main__ import _parser, serve_configs
from sandbox.aircall import AircallSandbox, AircallSandboxConfig, create_aircall_app
from sandbox.aircall_deliveries import RETRY_WINDOW_S
from sandbox.call_mix import plan_calls
from sandbox.simulator import SimulationSummary, simulate
from tests.sandbox.test_simulator import CALLERS, START, TOKEN

pytestmark = pytest.mark.anyio

URL = "http://sim.test/webhooks/aircall"
AUTH = ("demo-api-id", "demo-api-token")


class Clock:
    def __init__(self) -> None:
        self.now = 1_795_000_000.0

    def __call__(self) -> float:
        return self.now


class World:
    """The Aircall fake and a webhook receiver (answering `status`) behind one transport."""

    def __init__(self, *, failures_to_deactivate: int = 3, events: list[str] | None = None) -> None:
        self.clock = Clock()
        self.aircall = create_aircall_app(AircallSandboxConfig(
            requests_per_minute=None, webhook_failures_to_deactivate=failures_to_deactivate, clock=self.clock))
        self.webhook = self.sandbox.webhooks.add(url=URL, events=events, token=TOKEN)
        self.received: list[dict[str, Any]] = []
        self.status = 200

        async def receive(request: Request) -> JSONResponse:
            self.received.append(json.loads(await request.body()))
            return JSONResponse({}, status_code=self.status)

        self.app = Starlette(routes=[Route("/webhooks/aircall", receive, methods=["POST"]),
                                     Mount("/aircall", self.aircall)])

    @property
    def sandbox(self) -> AircallSandbox:
        sandbox: AircallSandbox = self.aircall.state.sandbox
        return sandbox

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://sim.test", auth=AUTH)

    async def play(self, calls: int, seed: int, **options: Any) -> SimulationSummary:
        async with self.http() as client:
            return await simulate(webhook_url=URL, token=TOKEN, calls=calls, seed=seed, speed=0, client=client,
                                  callers=CALLERS, started_at=START, aircall_url="http://sim.test/aircall",
                                  **options)

    def received_calls(self) -> set[int]:
        return {int(envelope["data"]["id"]) for envelope in self.received}


async def test_failing_deliveries_deactivate_the_webhook_after_n_then_nothing_is_sent_but_calls_are_listed() -> None:
    world = World(failures_to_deactivate=3)
    world.sandbox.config.webhook_deliveries_fail = True

    summary = await world.play(4, seed=5, max_retries=0)

    async with world.http() as client:
        listed = (await client.get("/aircall/v1/calls", params={"per_page": 50})).json()["calls"]
    calls = {script.call_id for script in plan_calls(4, seed=5, callers=CALLERS, started_at=START)}
    assert world.webhook["active"] is False
    assert world.received == [] and summary.deliveries == 0
    assert summary.failed == 3 and summary.dropped == summary.events - 3
    assert {call["id"] for call in listed} == calls and all(call["status"] == "done" for call in listed)
    assert world.sandbox.deliveries.counts["deactivated"] == 1


async def test_answers_outside_2xx_count_as_failures_and_a_success_starts_the_count_again() -> None:
    world = World(failures_to_deactivate=100)
    webhook_id = world.webhook["webhook_id"]
    world.status = 500
    refused = await world.play(1, seed=1, max_retries=1)
    after_500s = world.sandbox.webhooks.failures.get(webhook_id)
    world.status = 200
    await world.play(1, seed=2, max_retries=0)
    after_success = world.sandbox.webhooks.failures.get(webhook_id)
    world.status = 302
    world.sandbox.config.webhook_failures_to_deactivate = 3
    redirected = await world.play(1, seed=3, max_retries=0)

    assert after_500s == refused.events * 2 and after_success is None
    assert redirected.deliveries == 3 and redirected.dropped == redirected.events - 3
    assert world.webhook["active"] is False


async def test_a_retry_succeeding_within_twelve_hours_reenables_the_webhook_while_new_events_are_dropped() -> None:
    world = World(failures_to_deactivate=1)
    world.sandbox.config.webhook_deliveries_fail = True
    async with world.http() as client:
        first = (await client.post("/aircall/_sandbox/webhooks/deliveries",
                                   json={"url": URL, "event": "call.created"})).json()
        world.sandbox.config.webhook_deliveries_fail = False
        new_event = (await client.post("/aircall/_sandbox/webhooks/deliveries",
                                       json={"url": URL, "event": "call.created"})).json()
        world.clock.now += RETRY_WINDOW_S + 1
        too_late = (await client.post("/aircall/_sandbox/webhooks/deliveries",
                                       json={"url": URL, "event": "call.created", "retry": True})).json()
        world.clock.now -= 2
        retry = (await client.post("/aircall/_sandbox/webhooks/deliveries",
                                   json={"url": URL, "event": "call.created", "retry": True})).json()
        report = (await client.post(f"/aircall/_sandbox/webhooks/{retry['webhook_id']}/outcomes",
                                    json={"ok": True})).json()

    assert (first["deliver"], first["reason"]) == (False, "failing")
    assert (new_event["deliver"], new_event["reason"]) == (False, "inactive")
    assert (too_late["deliver"], too_late["reason"]) == (False, "inactive")
    assert retry["deliver"] is True and retry["failures"] == 1
    assert report == {"webhook_id": world.webhook["webhook_id"], "active": True, "consecutive_failures": 0}


async def test_a_webhook_receives_only_the_events_it_subscribes_to() -> None:
    world = World(events=["call.created", "call.ended"])

    summary = await world.play(3, seed=4)

    assert {envelope["event"] for envelope in world.received} == {"call.created", "call.ended"}
    assert summary.dropped == summary.events - len(world.received) > 0
    assert world.webhook["active"] is True


async def test_reenabling_by_hand_restarts_the_failure_count() -> None:
    world = World(failures_to_deactivate=2)
    webhook_id = world.webhook["webhook_id"]
    world.sandbox.config.webhook_deliveries_fail = True
    await world.play(1, seed=1, max_retries=0)
    deactivated = world.webhook["active"]
    world.sandbox.config.webhook_deliveries_fail = False
    async with world.http() as client:
        await client.put(f"/aircall/v1/webhooks/{webhook_id}", json={"active": True, "events": world.webhook["events"]})
        one_more = (await client.post(f"/aircall/_sandbox/webhooks/{webhook_id}/outcomes", json={"ok": False})).json()

    assert deactivated is False
    assert one_more == {"webhook_id": webhook_id, "active": True, "consecutive_failures": 1}


async def test_a_url_no_webhook_names_is_delivered_to_and_only_the_failure_switch_applies() -> None:
    world = World()
    del world.sandbox.webhooks.webhooks[world.webhook["webhook_id"]]

    delivered = await world.play(2, seed=3)
    world.sandbox.config.webhook_deliveries_fail = True
    failed = await world.play(1, seed=4, max_retries=0)

    assert delivered.deliveries == delivered.events and delivered.dropped == 0
    assert failed.failed == failed.events and failed.deliveries == 0


async def test_the_switches_are_serve_flags_and_config_fields_with_their_values_checked() -> None:
    args = _parser().parse_args(["serve", "--aircall-webhook-failures-to-deactivate", "50",
                                 "--aircall-webhook-deliveries-fail"])
    _, aircall = serve_configs(args)
    world = World()
    async with world.http() as client:
        bad = await client.patch("/aircall/_sandbox/config", json={"webhook_failures_to_deactivate": 0})
        good = await client.patch("/aircall/_sandbox/config", json={"webhook_deliveries_fail": True,
                                                                    "webhook_failures_to_deactivate": 50})
        shown = (await client.get("/aircall/_sandbox/webhooks/deliveries")).json()

    assert (aircall.webhook_failures_to_deactivate, aircall.webhook_deliveries_fail) == (50, True)
    assert _parser().parse_args(["serve"]).aircall_webhook_failures_to_deactivate == 10
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--aircall-webhook-failures-to-deactivate", "0"])
    assert bad.status_code == 400 and good.status_code == 200
    assert shown["webhook_deliveries_fail"] is True and shown["webhook_failures_to_deactivate"] == 50
    assert shown["webhooks"] == [{"webhook_id": world.webhook["webhook_id"], "url": URL, "active": True,
                                  "consecutive_failures": 0}]
