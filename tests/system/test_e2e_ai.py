"""End to end in a real browser: simulated calls followed by Aircall AI events, and the console's detail
view of a call whose note carries the AI sections (docs/screenshots/console-ai-note.png with
CALLBRIDGE_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from sandbox.simulator import simulate
from tests.e2e_kit import AIRCALL_AUTH, E2E, WEBHOOK_TOKEN, Demo, rendered, wait_for

pytestmark = E2E


@pytest.fixture(scope="module")
def with_ai(demo: Demo) -> dict[str, Any]:
    """Six simulated calls, every one with a conversation followed by its AI insights."""

    async def play() -> None:
        await simulate(webhook_url=f"{demo.web}/webhooks/aircall", token=WEBHOOK_TOKEN, calls=6, seed=21,
                       speed=0, aircall_url=f"{demo.sandbox}/aircall", aircall_auth=AIRCALL_AUTH, ai_share=1.0)

    anyio.run(play)

    def with_summary() -> list[dict[str, Any]]:
        calls = demo.api("/api/calls", status="synced")["calls"]
        details = [demo.api(f"/api/calls/{call['call_id']}") for call in calls]
        return [detail for detail in details if (detail.get("ai") or {}).get("summary")]

    wait_for(lambda: bool(with_summary()), 90, "a synced call whose note has its AI summary")
    return with_summary()[0]


def test_the_console_shows_a_calls_note_with_its_ai_sections(demo: Demo, with_ai: dict[str, Any],
                                                              browser: Any) -> None:
    call_id = with_ai["call_id"]
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    page.goto(f"{demo.console}/?call={call_id}")
    page.get_by_text(f"Call #{call_id}").wait_for(timeout=30_000)
    page.get_by_text("AI insights in the note").wait_for(timeout=30_000)
    page.get_by_text("Action items").first.wait_for(timeout=30_000)
    rendered(page)
    page.screenshot(path=str(demo.screenshots / "console-ai-note.png"), full_page=True)
    page.close()

    answer = demo.http.get(f"{demo.sandbox}/bullhorn/_sandbox/notes")
    answer.raise_for_status()
    [note] = [note for note in answer.json()["notes"] if note.get("externalID") == f"aircall:{call_id}"]
    assert with_ai["ai"]["topics"] and with_ai["ai"]["action_items"]
    assert "<b>Summary</b>" in note["comments"] and "<b>Action items</b>" in note["comments"]
