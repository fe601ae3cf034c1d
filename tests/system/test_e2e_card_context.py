"""End to end in a real browser: the HTML Insight Card with its context (DESIGN §13).

The demo processes on free ports (tests/e2e_kit.py); a candidate with a live pipeline is called by one
agent (the call ends, its note is written), then a colleague dials them and stays on the line, then a
third call rings: its card names the colleague on the line, the last contact and the pipeline.
Chromium draws it; with CALLBRIDGE_UPDATE_SCREENSHOTS=1 the screenshot replaces
docs/screenshots/insight-card-context.png.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from insight.domain.card_context import candidate_pipeline
from sandbox.calls import CallKind, CallScript, TagScript, lifecycle
from sandbox.demo_data import build_demo_data
from sandbox.people import AGENTS, LINES
from tests.e2e_kit import AIRCALL_AUTH, API_KEY, E2E, WEBHOOK_TOKEN, Demo, wait_for

pytestmark = E2E


def _candidate_with_a_pipeline() -> str:
    """raw_digits of a demo candidate with two or more active submissions or placements."""
    data = build_demo_data()
    now_ms = int(time.time() * 1000)
    for caller in data.callers:
        if caller.kind != "candidate" or len(caller.expected) != 1 or caller.expected[0][0] != "Candidate":
            continue
        candidate_id = caller.expected[0][1]
        submissions = [dict(row, jobOrder=data.job_orders[row["jobOrder"]["id"]])
                       for row in data.submissions.values() if row["candidate"]["id"] == candidate_id]
        placements = [dict(row, jobOrder=data.job_orders[row["jobOrder"]["id"]])
                      for row in data.placements.values() if row["candidate"]["id"] == candidate_id]
        if candidate_pipeline(submissions, placements, now_ms=now_ms).count >= 2:
            return caller.raw_digits
    raise AssertionError("the demo tenant has no candidate with two active jobs")


def _send(http: httpx.Client, sandbox: str, web: str, call: CallScript, events: tuple[str, ...] | None = None) -> None:
    for scheduled in lifecycle(call, token=WEBHOOK_TOKEN):
        envelope = scheduled.envelope
        if events is not None and envelope["event"] not in events:
            continue
        http.post(f"{sandbox}/aircall/_sandbox/calls", json=envelope["data"], auth=AIRCALL_AUTH).raise_for_status()
        assert http.post(f"{web}/webhooks/aircall", json=envelope).status_code == 200


def test_the_html_card_shows_a_colleague_on_the_line_the_last_contact_and_the_pipeline(
    demo: Demo, browser: Any
) -> None:
    sandbox, web, http = demo.sandbox, demo.web, demo.http
    raw = _candidate_with_a_pipeline()
    now = int(time.time())
    headers = {"Authorization": f"Bearer {API_KEY}"}
    earlier = CallScript(call_id=61_001, kind=CallKind.OUTBOUND_ANSWERED, agent=AGENTS[2], line=LINES[0],
                         raw_digits=raw, started_at=now - 2 * 3600, talk_s=240,
                         tags=(TagScript("Left Message", 250),))
    _send(http, sandbox, web, earlier)
    wait_for(lambda: http.get(f"{web}/api/calls/61001", headers=headers).json()["status"] == "synced", 60,
              "the earlier call's note")
    colleague = CallScript(call_id=61_002, kind=CallKind.OUTBOUND_ANSWERED, agent=AGENTS[1], line=LINES[0],
                           raw_digits=raw, started_at=now - 90, talk_s=600)
    _send(http, sandbox, web, colleague, events=("call.created", "call.answered"))
    ringing = CallScript(call_id=61_003, kind=CallKind.OUTBOUND_ANSWERED, agent=AGENTS[0], line=LINES[0],
                         raw_digits=raw, started_at=now, talk_s=60)
    _send(http, sandbox, web, ringing, events=("call.created",))

    def complete() -> bool:
        card = http.get(f"{web}/api/calls/61003/insight", headers=headers).json()
        return bool(card["context"]["complete"] and card["context"]["on_call_now"])

    wait_for(complete, 20, "the card's context")
    card = http.get(f"{web}/api/calls/61003/insight", headers=headers).json()
    context = card["context"]
    assert [call["agent"] for call in context["on_call_now"]] == [AGENTS[1].name]
    assert context["last_contact"]["kind"] == "call" and context["last_contact"]["action"] == "Left Message"
    assert context["pipeline"]["count"] >= 2 and context["pipeline"]["items"]

    page = browser.new_page(viewport={"width": 480, "height": 640})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(card["card_url"])
    page.get_by_text("On a call with this number now").wait_for(timeout=10_000)
    page.get_by_text("Last contact").wait_for(timeout=10_000)
    page.get_by_text(context["pipeline"]["items"][0]["title"]).first.wait_for(timeout=10_000)
    page.screenshot(path=str(demo.screenshots / "insight-card-context.png"), full_page=True)
    assert errors == []
    page.close()
