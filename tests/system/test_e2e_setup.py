"""The console's Setup page in a real browser, on the demo processes (sandbox, web, worker, console) as
`make run` starts them: the sandbox's Aircall company has the simulator's webhook for callbridge's URL,
subscribed to every event. The checklist shows, a fix is applied behind its confirmation and
confirmed, and once the fixes ran `python -m insight doctor` exits 0; then README's gap demo: an
outage (`python -m sandbox webhook-outage`) deactivates the webhook, calls go on, an on-demand
backfill logs each of them once.

With CALLBRIDGE_UPDATE_SCREENSHOTS=1 the screenshot replaces docs/screenshots/console-setup.png.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from bench.processes import ROOT
from sandbox.call_mix import plan_calls
from sandbox.demo_data import build_demo_data
from sandbox.simulator import SimulationSummary, simulate
from tests.e2e_kit import AIRCALL_AUTH, API_KEY, E2E, WEBHOOK_TOKEN, Demo, demo_processes, rendered, wait_for

pytestmark = E2E


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with demo_processes(tmp_path_factory.mktemp("setup-demo"), webhook_registered=True, http_timeout_s=30) as started:
        yield started


def _checks(demo: Demo) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in demo.api("/api/setup")["checks"]}


def _doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "insight", "doctor"], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_setup_page_lists_the_checks_and_applies_a_fix_after_its_confirmation(
    demo: Demo, browser: Any
) -> None:
    before = _checks(demo)["aircall_webhook"]
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    page.goto(demo.console)
    page.get_by_text("Setup", exact=True).click()
    page.get_by_text("Run the checks again").wait_for(timeout=60_000)
    page.get_by_text("Aircall webhook:", exact=False).first.wait_for(timeout=60_000)
    page.get_by_text("Aircall agents ↔ Bullhorn users").first.wait_for(timeout=30_000)

    page.get_by_role("button", name="Fix: enable_webhook").click()
    page.get_by_text("This fix will:").wait_for(timeout=30_000)
    page.get_by_role("button", name="Yes, apply it").click()
    page.get_by_text("Done. Now:").wait_for(timeout=60_000)
    rendered(page)
    page.screenshot(path=str(demo.screenshots / "console-setup.png"), full_page=True)
    page.close()

    after = _checks(demo)["aircall_webhook"]
    assert (before["status"], before["fix"]) == ("warn", "enable_webhook")
    assert (after["status"], after["fix"]) == ("ok", None)


def test_on_the_demo_the_doctor_exits_zero_once_the_offered_fixes_ran(
    demo: Demo
) -> None:
    offered = sorted({check["fix"] for check in _checks(demo).values() if check["fix"]})
    for fix in offered:
        answer = demo.http.post(f"{demo.web}/api/setup/fix", json={"fix": fix},
                                headers={"Authorization": f"Bearer {API_KEY}"})
        assert answer.status_code == 200, answer.text
    wait_for(lambda: all(check["status"] != "fail" for check in _checks(demo).values()), 30, "no failing check")

    doctor = _doctor(demo.env)

    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "0 failing" in doctor.stdout
    assert "[  ok ] Aircall webhook" in doctor.stdout


def test_the_readme_gap_demo_an_outage_deactivates_the_webhook_and_backfill_logs_each_call_once(
    demo: Demo
) -> None:
    aircall = f"{demo.sandbox}/aircall"
    outage = subprocess.Popen([sys.executable, "-m", "sandbox", "webhook-outage", "--aircall-url", aircall,
                               "--seconds", "3"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    wait_for(lambda: demo.http.get(f"{aircall}/_sandbox/config", auth=AIRCALL_AUTH).json()[
        "webhook_deliveries_fail"], 20, "the outage to start")
    during = _play(demo, calls=6, seed=31)
    printed, _ = outage.communicate(timeout=60)
    after = _play(demo, calls=4, seed=32)
    doctor_while_off = _checks(demo)["aircall_webhook"]

    started = demo.http.post(f"{demo.web}/api/backfill", headers={"Authorization": f"Bearer {API_KEY}"},
                             json={"from": _iso(time.time() - 7_200)})
    job = started.json()["job"]
    wait_for(lambda: demo.api(f"/api/backfill/{job}")["status"] != "running", 60, "the backfill job")
    calls = [*_call_ids(6, 31), *_call_ids(4, 32)]
    wait_for(lambda: all(demo.http.get(f"{demo.web}/api/calls/{call_id}", headers={
        "Authorization": f"Bearer {API_KEY}"}).json().get("status") in ("synced", "unmatched") for call_id in calls),
        60, "every call of the gap to be synced or unmatched")
    notes = Counter(note.get("externalID") for note in
                    demo.http.get(f"{demo.sandbox}/bullhorn/_sandbox/notes").json()["notes"])
    outcomes = {call_id: (demo.api(f"/api/calls/{call_id}")["status"], notes[f"aircall:{call_id}"])
                for call_id in calls}
    done = demo.api(f"/api/backfill/{job}")

    assert outage.returncode == 0 and "DEACTIVATED" in printed
    assert during.failed == 10 and during.deliveries == 0 and after.deliveries == 0
    assert doctor_while_off["status"] == "fail" and doctor_while_off["fix"] == "enable_webhook"
    assert started.status_code == 202 and done["status"] == "done" and done["taken_in"] == len(calls)
    assert all(outcome in (("synced", 1), ("unmatched", 0)) for outcome in outcomes.values()), outcomes
    assert sum(1 for status, _ in outcomes.values() if status == "synced") >= len(calls) // 2


def _play(demo: Demo, *, calls: int, seed: int) -> SimulationSummary:
    async def play() -> SimulationSummary:
        return await simulate(webhook_url=f"{demo.web}/webhooks/aircall", token=WEBHOOK_TOKEN, calls=calls,
                              seed=seed, speed=0, aircall_url=f"{demo.sandbox}/aircall", aircall_auth=AIRCALL_AUTH,
                              max_retries=0)

    # Playwright's sync API keeps an event loop running in this thread (the module's browser)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, play).result()


def _call_ids(calls: int, seed: int) -> list[int]:
    return [script.call_id for script in plan_calls(calls, seed=seed, callers=build_demo_data().callers, started_at=0)]


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")
