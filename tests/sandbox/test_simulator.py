from __future__ import annotations

import json
import random
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from sandbox.aircall import AircallSandboxConfig, create_aircall_app
from sandbox.call_mix import plan_calls
from sandbox.calls import lifecycle
from sandbox.simulator import SimulationSummary, delivery_plan, simulate

START = 1_764_000_000
TOKEN = "demo-webhook-token"


class Caller:
    def __init__(self, raw_digits: str, expected: tuple[tuple[str, int], ...], kind: str = "candidate") -> None:
        self.raw_digits = raw_digits
        self.expected = expected
        self.kind = kind


CALLERS = [
    Caller("+1 415-555-0100", (("Candidate", 1),)),
    Caller("+1 415-555-0101", (("Candidate", 2), ("ClientContact", 3))),
    Caller("+44 20 7946 0001", ()),
]


def recording_app(fail_first: int = 0) -> tuple[Starlette, list[bytes]]:
    """A webhook receiver that keeps every body it gets; the first `fail_first` answers are 500."""
    received: list[bytes] = []

    async def webhook(request: Request) -> JSONResponse:
        received.append(await request.body())
        if len(received) <= fail_first:
            return JSONResponse({"error": "boom"}, status_code=500)
        return JSONResponse({"status": "accepted"})

    app = Starlette(routes=[Route("/webhooks/aircall", webhook, methods=["POST"])])
    return app, received


async def run(app: Starlette, **options: Any) -> SimulationSummary:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test") as client:
        options.setdefault("speed", 0)
        return await simulate(webhook_url="http://sim.test/webhooks/aircall", token=TOKEN, client=client,
                              callers=CALLERS, started_at=START, **options)


def expected_envelopes(calls: int, seed: int) -> list[dict[str, Any]]:
    scripts = plan_calls(calls, seed=seed, callers=CALLERS, started_at=START)
    return [event.envelope for script in scripts for event in lifecycle(script, token=TOKEN)]


def key(envelope: dict[str, Any]) -> tuple[str, int, int]:
    return envelope["event"], envelope["data"]["id"], envelope["timestamp"]


@pytest.mark.anyio
async def test_every_event_of_every_call_is_delivered_once_without_redelivery():
    app, received = recording_app()
    summary = await run(app, calls=12, seed=4)
    expected = expected_envelopes(12, 4)
    assert sorted(map(key, (json.loads(body) for body in received))) == sorted(map(key, expected))
    assert summary.calls == 12 and summary.events == len(expected) == summary.deliveries
    assert summary.by_status == Counter({"200": len(expected)})
    assert summary.redeliveries == summary.retries == 0


@pytest.mark.anyio
async def test_each_calls_events_arrive_in_lifecycle_order_unless_shuffled():
    app, received = recording_app()
    await run(app, calls=6, seed=9, concurrency=1)
    in_order = [json.loads(body) for body in received]
    assert in_order == expected_envelopes(6, 9)

    app, shuffled_bodies = recording_app()
    await run(app, calls=6, seed=9, concurrency=1, shuffle=True)
    shuffled = [json.loads(body) for body in shuffled_bodies]
    assert shuffled != in_order
    assert sorted(map(key, shuffled)) == sorted(map(key, in_order))


@pytest.mark.anyio
async def test_redeliveries_are_byte_identical_envelopes():
    app, received = recording_app()
    summary = await run(app, calls=10, seed=2, redeliver=0.3)
    counts = Counter(received)
    repeated = [body for body, count in counts.items() if count > 1]
    assert summary.redeliveries > 0
    assert sum(count - 1 for count in counts.values()) == summary.redeliveries
    assert len(counts) == summary.events
    for body in repeated:
        assert json.loads(body)["token"] == TOKEN


@pytest.mark.anyio
async def test_failed_deliveries_are_retried_with_the_same_body():
    app, received = recording_app(fail_first=2)
    summary = await run(app, calls=1, seed=1)
    assert received[0] == received[1] == received[2]
    assert summary.retries == 2
    assert summary.by_status["500"] == 2 and summary.by_status["200"] == summary.events


@pytest.mark.anyio
async def test_calls_are_registered_with_the_aircall_fake_before_their_events_arrive():
    aircall = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    seen_before_delivery: list[bool] = []

    async def webhook(request: Request) -> JSONResponse:
        envelope = json.loads(await request.body())
        seen_before_delivery.append(envelope["data"]["id"] in aircall.state.sandbox.calls)
        return JSONResponse({"status": "accepted"})

    app = Starlette(routes=[Route("/webhooks/aircall", webhook, methods=["POST"]), Mount("/aircall", aircall)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test") as client:
        summary = await simulate(webhook_url="http://sim.test/webhooks/aircall", token=TOKEN, calls=5, seed=6,
                                 speed=0, client=client, callers=CALLERS, started_at=START,
                                 aircall_url="http://sim.test/aircall", shuffle=True)
    assert seen_before_delivery and all(seen_before_delivery)
    scripts = plan_calls(5, seed=6, callers=CALLERS, started_at=START)
    stored = aircall.state.sandbox.calls
    assert set(stored) == {script.call_id for script in scripts}
    assert all(call["status"] == "done" for call in stored.values())
    assert summary.registered >= len(scripts)


def test_shuffled_events_never_leave_before_they_happened():
    script = plan_calls(1, seed=12, callers=CALLERS, started_at=START)[0]
    events = lifecycle(script, token=TOKEN)
    plan = delivery_plan(events, random.Random(0), redeliver=0.5, shuffle=True, window=3)
    assert all(delivery.send_at_s >= events[delivery.event_index].send_at_s for delivery in plan)
    assert [d.send_at_s for d in plan] == sorted(d.send_at_s for d in plan)
    assert {d.event_index for d in plan} == set(range(len(events)))


@pytest.mark.anyio
async def test_with_a_speed_the_simulator_waits_in_compressed_time_and_still_delivers_everything():
    app, received = recording_app()
    summary = await run(app, calls=2, seed=8, speed=1_000_000.0, aircall_url="http://sim.test/nowhere")
    assert len(received) == summary.events == len(expected_envelopes(2, 8))
    assert summary.registered == 0 and summary.registration_errors > 0


@pytest.mark.anyio
async def test_without_a_given_start_no_event_is_stamped_later_than_it_is_sent():
    app, received = recording_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service.test") as client:
        await simulate(webhook_url="http://service.test/webhooks/aircall", token=TOKEN, calls=6, seed=4, speed=0,
                       client=client, callers=CALLERS)
    sent_by = time.time()

    stamps = [json.loads(body)["timestamp"] for body in received]

    assert stamps and max(stamps) <= sent_by
    assert max(stamps) > sent_by - 60


@pytest.mark.anyio
async def test_with_a_speed_each_event_is_stamped_with_the_moment_it_is_sent_so_syncs_measure_seconds():
    app, received = recording_app()
    seen: list[tuple[float, dict[str, Any]]] = []

    async def webhook(request: Request) -> JSONResponse:
        seen.append((time.time(), json.loads(await request.body())))
        return JSONResponse({"status": "accepted"})

    app = Starlette(routes=[Route("/webhooks/aircall", webhook, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service.test") as client:
        await simulate(webhook_url="http://service.test/webhooks/aircall", token=TOKEN, calls=2, seed=3, speed=600,
                       client=client, callers=CALLERS)

    assert seen
    for sent_at, envelope in seen:
        # within the second it was sent (rounding), never minutes before
        assert abs(envelope["timestamp"] - sent_at) < 2
        ended = envelope["data"].get("ended_at")
        if envelope["event"] == "call.ended":
            assert ended is not None and sent_at - ended < 2
            assert envelope["data"]["duration"] == ended - envelope["data"]["started_at"]


@pytest.mark.anyio
async def test_a_redelivery_of_a_restamped_event_carries_the_same_timestamp_and_no_two_events_share_one():
    app, received = recording_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service.test") as client:
        summary = await simulate(webhook_url="http://service.test/webhooks/aircall", token=TOKEN, calls=3, seed=5,
                                 speed=2_000, redeliver=1.0, client=client, callers=CALLERS)

    bodies = {json.loads(body)["event"] + json.dumps(json.loads(body)["data"], sort_keys=True): body
              for body in received}
    keys = {key(json.loads(body)) for body in received}
    assert summary.redeliveries > 0
    # every distinct event has its own dedupe key, and every redelivery repeats its event's key
    assert len(keys) == summary.events == len(bodies)
