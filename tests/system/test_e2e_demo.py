"""End to end in a real browser: the demo processes (sandbox, web, worker, console) on free ports,
simulated calls through real HTTP, Debian's chromium driven by Playwright (tests/e2e_kit.py)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from sandbox.simulator import simulate
from tests.e2e_kit import AIRCALL_AUTH, E2E, WEBHOOK_TOKEN, Demo, rendered, wait_for

pytestmark = E2E


@pytest.fixture(scope="module")
def played(demo: Demo) -> dict[str, Any]:
    """Eight simulated calls; Bullhorn refuses the first note written, so one call fails."""
    demo.http.post(
        f"{demo.sandbox}/bullhorn/_sandbox/faults", json={"endpoint": "PUT entity/Note", "status": 400, "count": 1}
    ).raise_for_status()

    async def play() -> None:
        await simulate(
            webhook_url=f"{demo.web}/webhooks/aircall", token=WEBHOOK_TOKEN, calls=8, seed=11, speed=0,
            aircall_url=f"{demo.sandbox}/aircall", aircall_auth=AIRCALL_AUTH,
        )

    anyio.run(play)

    def settled() -> bool:
        counts = demo.api("/api/summary")["counts"]
        return counts.get("failed", 0) >= 1 and not any(counts.get(s, 0) for s in ("pending", "syncing", "retrying"))

    wait_for(settled, 60, "the worker to sync every simulated call")
    return {"calls": demo.api("/api/calls")["calls"], "failed": demo.api("/api/calls", status="failed")["calls"]}


def test_the_console_lists_the_simulated_calls(demo: Demo, played: dict[str, Any], browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(demo.console)

    page.get_by_text(f"{len(played['calls'])} calls shown").wait_for(timeout=30_000)
    rendered(page)
    page.screenshot(path=str(demo.screenshots / "console-calls.png"), full_page=True)
    page.close()


def test_retrying_a_failed_call_in_the_console_turns_it_synced(
    demo: Demo, played: dict[str, Any], browser: Any
) -> None:
    failed = played["failed"][0]
    page = browser.new_page(viewport={"width": 1400, "height": 2300})
    page.goto(f"{demo.console}/?call={failed['call_id']}")
    page.get_by_text(f"Call #{failed['call_id']}").wait_for(timeout=30_000)
    page.get_by_text("Bullhorn refused").first.wait_for(timeout=30_000)
    rendered(page)
    page.screenshot(path=str(demo.screenshots / "console-failed-call.png"), full_page=True)

    page.get_by_role("button", name="Retry: look up again and rewrite the note").click()
    wait_for(lambda: demo.api(f"/api/calls/{failed['call_id']}")["status"] == "synced", 60, "the retried call")

    page.reload()
    page.get_by_text(f"Call #{failed['call_id']}").wait_for(timeout=30_000)
    page.get_by_text("synced").first.wait_for(timeout=30_000)
    rendered(page)
    page.screenshot(path=str(demo.screenshots / "console-retried-call.png"), full_page=True)
    page.close()


def test_the_tags_page_lists_the_tags_seen_and_what_to_fix(demo: Demo, played: dict[str, Any],
                                                                        browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(demo.console)
    page.get_by_text("Tags", exact=True).click()
    page.get_by_text("commentActionList").first.wait_for(timeout=30_000)
    rendered(page)
    page.screenshot(path=str(demo.screenshots / "console-tags.png"), full_page=True)
    page.close()


def test_the_html_insight_card_renders_in_the_browser(demo: Demo, played: dict[str, Any], browser: Any) -> None:
    matched = next(call for call in played["calls"] if call.get("match"))
    detail = demo.api(f"/api/calls/{matched['call_id']}")
    page = browser.new_page(viewport={"width": 480, "height": 420})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(detail["card_url"])

    page.get_by_text(matched["match"]["name"]).first.wait_for(timeout=10_000)
    page.get_by_text("Open in Bullhorn").wait_for(timeout=10_000)
    page.screenshot(path=str(demo.screenshots / "insight-card.png"), full_page=True)
    assert errors == []
    page.close()
