"""End to end in a real browser: the demo processes (sandbox, web, worker, console) on free ports,
simulated calls through real HTTP, Debian's chromium driven by Playwright.

Screenshots land in the test's temporary directory; with CALLBRIDGE_UPDATE_SCREENSHOTS=1 they
replace the ones README shows (docs/screenshots/).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from bench.processes import ROOT, free_port, process, sandbox_args, service_env, wait_until_up, web_args
from sandbox.simulator import simulate

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
API_KEY = "bench-api-key"
AIRCALL_AUTH = ("demo-api-id", "demo-api-token")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed (make test installs it)"),
]


@dataclass
class Demo:
    web: str
    sandbox: str
    console: str
    http: httpx.Client
    screenshots: Path

    def api(self, path: str, **params: Any) -> Any:
        answer = self.http.get(f"{self.web}{path}", params=params, headers={"Authorization": f"Bearer {API_KEY}"})
        answer.raise_for_status()
        return answer.json()


def _rendered(page: Any) -> None:
    """Wait until Streamlit has drawn everything (no loading skeletons left) before a screenshot."""
    page.get_by_text("Bullhorn session").first.wait_for(timeout=30_000)
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=30_000
    )
    page.wait_for_timeout(500)


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    scratch = tmp_path_factory.mktemp("demo")
    ports = {name: free_port() for name in ("sandbox", "web", "console")}
    sandbox, web, console = (f"http://127.0.0.1:{ports[name]}" for name in ("sandbox", "web", "console"))
    env = {
        **service_env(sandbox_url=sandbox, web_url=web, database_url=f"sqlite:///{scratch / 'demo.db'}"),
        "CALLBRIDGE_API_URL": web,
        "CALLBRIDGE_CONSOLE_REFRESH_S": "2",
    }
    screenshots = ROOT / "docs" / "screenshots" if os.environ.get("CALLBRIDGE_UPDATE_SCREENSHOTS") else scratch
    screenshots.mkdir(parents=True, exist_ok=True)
    console_args = [
        sys.executable, "-m", "streamlit", "run", "console/app.py", "--server.port", str(ports["console"]),
        "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    with ExitStack() as stack, httpx.Client(timeout=10) as http:
        stack.enter_context(process(sandbox_args(ports["sandbox"], bullhorn_latency_ms=5), log=scratch / "sandbox.log"))
        wait_until_up(f"{sandbox}/")
        stack.enter_context(process(web_args(ports["web"]), env=env, log=scratch / "web.log"))
        wait_until_up(f"{web}/healthz")
        stack.enter_context(process([sys.executable, "-m", "insight.worker"], env=env, log=scratch / "worker.log"))
        stack.enter_context(process(console_args, env=env, log=scratch / "console.log"))
        wait_until_up(f"{console}/")
        yield Demo(web=web, sandbox=sandbox, console=console, http=http, screenshots=screenshots)


@pytest.fixture(scope="module")
def played(demo: Demo) -> dict[str, Any]:
    """Eight simulated calls; Bullhorn refuses the first note written, so one call fails."""
    demo.http.post(
        f"{demo.sandbox}/bullhorn/_sandbox/faults", json={"endpoint": "PUT entity/Note", "status": 400, "count": 1}
    ).raise_for_status()

    async def play() -> None:
        await simulate(
            webhook_url=f"{demo.web}/webhooks/aircall", token="demo-webhook-token", calls=8, seed=11, speed=0,
            aircall_url=f"{demo.sandbox}/aircall", aircall_auth=AIRCALL_AUTH,
        )

    anyio.run(play)

    def settled() -> bool:
        counts = demo.api("/api/summary")["counts"]
        return counts.get("failed", 0) >= 1 and not any(counts.get(s, 0) for s in ("pending", "syncing", "retrying"))

    _wait_for(settled, 60, "the worker to sync every simulated call")
    return {"calls": demo.api("/api/calls")["calls"], "failed": demo.api("/api/calls", status="failed")["calls"]}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield launched
        launched.close()


def test_the_console_lists_the_simulated_calls(demo: Demo, played: dict[str, Any], browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(demo.console)

    page.get_by_text(f"{len(played['calls'])} calls shown").wait_for(timeout=30_000)
    _rendered(page)
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
    _rendered(page)
    page.screenshot(path=str(demo.screenshots / "console-failed-call.png"), full_page=True)

    page.get_by_role("button", name="Retry: look up again and rewrite the note").click()
    _wait_for(lambda: demo.api(f"/api/calls/{failed['call_id']}")["status"] == "synced", 60, "the retried call")

    page.reload()
    page.get_by_text(f"Call #{failed['call_id']}").wait_for(timeout=30_000)
    page.get_by_text("synced").first.wait_for(timeout=30_000)
    _rendered(page)
    page.screenshot(path=str(demo.screenshots / "console-retried-call.png"), full_page=True)
    page.close()


def test_the_tags_page_lists_the_tags_seen_and_what_to_fix(demo: Demo, played: dict[str, Any],
                                                                        browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(demo.console)
    page.get_by_text("Tags", exact=True).click()
    page.get_by_text("commentActionList").first.wait_for(timeout=30_000)
    _rendered(page)
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
