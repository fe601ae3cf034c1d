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
from sandbox.ai_events import AI_CALL_KINDS, AiScript, ai_lifecycle
from sandbox.aircall import AircallSandboxConfig, create_aircall_app
from sandbox.call_mix import plan_calls
from sandbox.calls import lifecycle
from sandbox.simulator import AI_SHAPES, ai_shape, simulate
from tests.sandbox.test_simulator import CALLERS, START, TOKEN

pytestmark = pytest.mark.anyio


async def test_ai_events_follow_some_calls_minutes_after_call_ended_and_the_fake_answers_their_rest_endpoints() -> None:
    aircall = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    received: list[dict[str, Any]] = []

    async def webhook(request: Request) -> JSONResponse:
        received.append(json.loads(await request.body()))
        return JSONResponse({"status": "accepted"})

    app = Starlette(routes=[Route("/webhooks/aircall", webhook, methods=["POST"]), Mount("/aircall", aircall)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test") as client:
        await simulate(webhook_url="http://sim.test/webhooks/aircall", token=TOKEN, calls=12, seed=3, speed=0,
                       client=client, callers=CALLERS, started_at=START, aircall_url="http://sim.test/aircall",
                       ai_share=1.0)
        scripts = plan_calls(12, seed=3, callers=CALLERS, started_at=START)
        talked = [script for script in scripts if script.kind in AI_CALL_KINDS]
        summary = await client.get(f"/aircall/v1/calls/{talked[0].call_id}/summary", auth=("demo-api-id",
                                                                                           "demo-api-token"))

    ai = [envelope for envelope in received if not str(envelope["event"]).startswith("call.")]
    assert talked and {int(str(envelope["data"]["call_id"])) for envelope in ai} == {s.call_id for s in talked}
    ended = {envelope["data"]["id"]: envelope["timestamp"] for envelope in received
             if envelope["event"] == "call.ended"}
    assert all(envelope["timestamp"] >= ended[int(str(envelope["data"]["call_id"]))] + 60 for envelope in ai)
    assert summary.status_code == 200 and summary.json()["summary"]["content"].startswith("The caller and")


def test_the_share_of_calls_with_ai_takes_the_documented_shapes_in_turns() -> None:
    scripts = [script for script in plan_calls(60, seed=1, callers=CALLERS, started_at=START)
               if script.kind in AI_CALL_KINDS]
    shapes = [ai_shape(script, 1.0) for script in scripts]

    assert None not in shapes and all(shape in shapes for shape in AI_SHAPES)
    assert all(ai_shape(script, 0.0) is None for script in scripts)
    assert 0 < sum(ai_shape(script, 0.5) is not None for script in scripts) < len(scripts)


def test_an_ai_event_is_sent_without_content_only_for_the_kinds_its_shape_says() -> None:
    script = next(s for s in plan_calls(20, seed=2, callers=CALLERS, started_at=START) if s.kind in AI_CALL_KINDS)
    events = ai_lifecycle(script, token=TOKEN, shape=AiScript(without_content=frozenset({"summary"})))
    ended_at = next(e.send_at_s for e in lifecycle(script, token=TOKEN) if e.envelope["event"] == "call.ended")

    by_event = {event.envelope["event"]: event.envelope["data"] for event in events}
    assert "content" not in by_event["summary.created"] and "content" in by_event["topics.created"]
    assert all(event.send_at_s > ended_at for event in events)


def test_serve_plays_a_create_only_api_user_behind_a_switch() -> None:
    default, _ = serve_configs(_parser().parse_args(["serve"]))
    create_only, _ = serve_configs(_parser().parse_args(["serve", "--bullhorn-create-only"]))

    assert default.note_edit_allowed and not create_only.note_edit_allowed
