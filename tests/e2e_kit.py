"""The demo processes (sandbox, web, worker, console) on free ports and Debian's chromium, for the
browser tests in tests/system/test_e2e_*.py.

Screenshots land in the test's temporary directory; with CALLBRIDGE_UPDATE_SCREENSHOTS=1 they
replace the ones README shows (docs/screenshots/).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.processes import ROOT, free_port, process, sandbox_args, service_env, wait_until_up, web_args

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
API_KEY = "bench-api-key"
AIRCALL_AUTH = ("demo-api-id", "demo-api-token")
WEBHOOK_TOKEN = "demo-webhook-token"

#: every browser test: marked, bounded, and skipped where chromium is missing (make test installs it)
E2E = [
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
    #: the environment the service processes run with (e.g. for `python -m insight doctor`)
    env: dict[str, str]

    def api(self, path: str, **params: Any) -> Any:
        answer = self.http.get(f"{self.web}{path}", params=params, headers={"Authorization": f"Bearer {API_KEY}"})
        answer.raise_for_status()
        return answer.json()


@contextmanager
def demo_processes(scratch: Path, *, webhook_registered: bool = False, http_timeout_s: float = 10,
                   ) -> Iterator[Demo]:
    """The demo processes in `scratch`; `webhook_registered`: as `make run` starts the sandbox, with the
    simulator's webhook registered for callbridge's URL (every event)."""
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
    sandbox_flags = ["--webhook-url", f"{web}/webhooks/aircall"] if webhook_registered else []
    with ExitStack() as stack, httpx.Client(timeout=http_timeout_s) as http:
        started = [stack.enter_context(process(sandbox_args(ports["sandbox"], bullhorn_latency_ms=5,
                                                            extra=sandbox_flags), log=scratch / "sandbox.log"))]
        wait_until_up(f"{sandbox}/")
        started.append(stack.enter_context(process(web_args(ports["web"]), env=env, log=scratch / "web.log")))
        wait_until_up(f"{web}/healthz")
        started.append(stack.enter_context(process([sys.executable, "-m", "insight.worker"], env=env,
                                                   log=scratch / "worker.log")))
        started.append(stack.enter_context(process(console_args, env=env, log=scratch / "console.log")))
        # before each process's own stop (one after another): all of them told to stop at once
        stack.callback(_stop_together, started)
        wait_until_up(f"{console}/")
        yield Demo(web=web, sandbox=sandbox, console=console, http=http, screenshots=screenshots, env=env)


def _stop_together(started: list[subprocess.Popen[bytes]]) -> None:
    for child in started:
        child.terminate()
    for child in started:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


@contextmanager
def chromium() -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        try:
            yield launched
        finally:
            launched.close()


def rendered(page: Any) -> None:
    """Wait until Streamlit has drawn everything (no loading skeletons left) before a screenshot."""
    page.get_by_text("Bullhorn session").first.wait_for(timeout=30_000)
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=30_000
    )
    page.wait_for_timeout(500)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
