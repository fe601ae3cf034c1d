"""End to end in a real browser: the demo's SMS conversations through real HTTP, their notes written by the
worker, and one SMS note in the console's detail view (docs/screenshots/console-sms-note.png with
CALLBRIDGE_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

from typing import Any

from sandbox.demo_data import build_demo_data
from sandbox.messages import demo_conversations
from tests.e2e_kit import E2E, WEBHOOK_TOKEN, Demo, rendered, wait_for

pytestmark = E2E


def _conversations(demo: Demo) -> list[dict[str, Any]]:
    return list(demo.api("/api/conversations")["conversations"])


def test_the_console_shows_an_sms_conversation_with_its_note(demo: Demo, browser: Any) -> None:
    callers = build_demo_data().callers
    known = [caller.raw_digits for caller in callers if caller.kind in ("candidate", "contact")][:2]
    unknown = next(caller.raw_digits for caller in callers if caller.kind == "unknown")
    for envelope in demo_conversations(known, unknown, token=WEBHOOK_TOKEN):
        assert demo.http.post(f"{demo.web}/webhooks/aircall", json=envelope).status_code == 200

    def written() -> bool:
        items = _conversations(demo)
        return len(items) == 4 and all(item["status"] in ("synced", "unmatched") for item in items)

    wait_for(written, 60, "the worker to write the SMS notes")
    items = _conversations(demo)
    assert sorted(item["status"] for item in items) == ["synced", "synced", "synced", "unmatched"]
    evening = [item for item in items if len(item["messages"]) == 3]
    [busiest] = evening
    page = browser.new_page(viewport={"width": 1400, "height": 2300})
    page.goto(f"{demo.console}/?conversation={busiest['id']}")
    page.get_by_text("Conversations", exact=True).click()
    page.get_by_text(f"SMS conversation #{busiest['id']}").wait_for(timeout=30_000)
    page.get_by_text("Text messages").first.wait_for(timeout=30_000)
    rendered(page)
    page.screenshot(path=str(demo.screenshots / "console-sms-note.png"), full_page=True)
    page.close()
