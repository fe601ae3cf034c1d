"""The self-healing Aircall link on the running stack (issue 14's acceptance): calls made while Aircall
has the webhook deactivated are logged by backfill, each exactly once, late webhooks included; and on
the demo company the doctor is green once its fixes ran."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from insight.backfill.periodic import run_periodic_once
from insight.domain.setup_checks import NEEDED_EVENTS
from sandbox.aircall import AircallSandboxConfig
from sandbox.call_mix import plan_calls
from sandbox.server import DEMO_WEBHOOK_TOKEN
from sandbox.simulator import SimulationSummary, simulate
from tests.stack import WEBHOOK_TOKEN, Stack, demo_data, running_stack
from tests.worker_kit import notes_of, row

pytestmark = pytest.mark.anyio

OUR_URL = "http://callbridge.test/webhooks/aircall"
AIRCALL_URL = "http://aircall.test"
AUTH = ("demo-api-id", "demo-api-token")
NO_LIMIT = AircallSandboxConfig(requests_per_minute=None)
#: callers one Bullhorn record answers for (the call mix adds anonymous and unknown callers of its own)
CALLERS = [caller for caller in demo_data().callers if len(caller.expected) == 1][:12]
#: the simulator's call start (fixed, so a replay sends the very same envelopes: Aircall's late retries)
START = 1_795_000_000


class _ByHost(httpx.AsyncBaseTransport):
    """The simulator's one client: callbridge's web and the Aircall fake, each over ASGI."""

    def __init__(self, stack: Stack) -> None:
        assert stack.aircall_app is not None
        self._web = httpx.ASGITransport(app=stack.asgi)
        self._aircall = httpx.ASGITransport(app=stack.aircall_app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self._aircall if request.url.host == "aircall.test" else self._web
        return await target.handle_async_request(request)


@asynccontextmanager
async def simulator_http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=_ByHost(stack)) as client:
        yield client


async def play(stack: Stack, client: httpx.AsyncClient, *, calls: int, seed: int) -> SimulationSummary:
    summary = await simulate(webhook_url=OUR_URL, token=WEBHOOK_TOKEN, calls=calls, seed=seed, speed=0,
                             client=client, aircall_url=AIRCALL_URL, aircall_auth=AUTH, callers=CALLERS,
                             started_at=START + seed * 3_600, max_retries=0)
    await stack.settle()
    return summary


def call_ids(calls: int, seed: int) -> list[int]:
    return [script.call_id for script in plan_calls(calls, seed=seed, callers=CALLERS, started_at=START + seed * 3_600)]


def logged(stack: Stack, call_ids: list[int]) -> dict[int, tuple[str, int]]:
    """Each call's state and its notes in Bullhorn."""
    return {call_id: (row(stack, call_id)["status"], len(notes_of(stack, call_id))) for call_id in call_ids}


def exactly_once(outcomes: dict[int, tuple[str, int]]) -> bool:
    """Every call ended: a matched call with one note, an unmatched one (no record to log it on) with none."""
    return all(outcome in (("synced", 1), ("unmatched", 0)) for outcome in outcomes.values()) \
        and sum(1 for outcome in outcomes.values() if outcome == ("synced", 1)) > len(outcomes) // 2


async def checks(stack: Stack) -> dict[str, dict[str, Any]]:
    answer = await stack.web.get("/api/setup", headers=stack.api_headers)
    assert answer.status_code == 200
    return {check["id"]: check for check in answer.json()["checks"]}


async def test_calls_made_while_the_webhook_is_deactivated_are_each_logged_exactly_once_after_backfill(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack, simulator_http(stack) as client:
        webhook = stack.aircall.webhooks.add(url=OUR_URL, events=list(NEEDED_EVENTS), token=WEBHOOK_TOKEN)
        worker = await stack.worker()
        before = await play(stack, client, calls=3, seed=1)
        deactivated = await client.post(f"{AIRCALL_URL}/_sandbox/webhooks/{webhook['webhook_id']}/deactivate",
                                        auth=AUTH)
        during = await play(stack, client, calls=5, seed=2)
        await worker.run_once()
        noted_before_backfill = [call_id for call_id in call_ids(5, 2) if notes_of(stack, call_id)]
        doctor = (await checks(stack))["aircall_webhook"]

        job = await run_periodic_once(stack.aircall_client, stack.store.engine, lookback_s=30 * 86_400)
        await worker.run_once()
        after_backfill = logged(stack, call_ids(3, 1) + call_ids(5, 2))
        # The webhook re-enabled (the doctor's fix); Aircall's retries of the gap's events arrive late
        fixed = await stack.web.post("/api/setup/fix", json={"fix": "enable_webhook"}, headers=stack.api_headers)
        late = await play(stack, client, calls=5, seed=2)
        await worker.run_once()

        every_call = call_ids(3, 1) + call_ids(5, 2)
        after_late_webhooks = logged(stack, every_call)
        sources = {call_id: row(stack, call_id)["source"] for call_id in every_call}

    assert deactivated.status_code == 200 and before.dropped == 0
    assert during.deliveries == 0 and during.dropped == during.events
    assert noted_before_backfill == []
    assert doctor["status"] == "fail" and "deactivated" in doctor["detail"] and doctor["fix"] == "enable_webhook"
    assert (job.status, job.taken_in) == ("done", 5)
    assert fixed.json()["status"] == "ok" and late.dropped == 0 and late.deliveries == late.events
    assert exactly_once(after_backfill) and after_late_webhooks == after_backfill
    assert [call_id for call_id, source in sources.items() if source == "backfill"] == call_ids(5, 2)


async def test_failed_deliveries_deactivate_the_webhook_and_backfill_logs_what_they_missed(tmp_path: Path) -> None:
    failing = AircallSandboxConfig(requests_per_minute=None, webhook_failures_to_deactivate=4,
                                   webhook_deliveries_fail=True)
    async with running_stack(tmp_path, aircall_config=failing) as stack, simulator_http(stack) as client:
        webhook = stack.aircall.webhooks.add(url=OUR_URL, events=list(NEEDED_EVENTS), token=WEBHOOK_TOKEN)
        outage = await play(stack, client, calls=4, seed=3)
        stack.aircall.config.webhook_deliveries_fail = False
        after = await play(stack, client, calls=2, seed=4)

        job = await run_periodic_once(stack.aircall_client, stack.store.engine, lookback_s=30 * 86_400)
        await (await stack.worker()).run_once()

        every_call = call_ids(4, 3) + call_ids(2, 4)
        outcomes = logged(stack, every_call)

    assert webhook["active"] is False
    assert (outage.failed, outage.dropped, after.dropped) == (4, outage.events - 4, after.events)
    assert job.taken_in == len(every_call)
    assert exactly_once(outcomes)


async def test_on_the_demo_company_the_doctor_is_green_once_its_fixes_ran(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT, AIRCALL_WEBHOOK_TOKEN=DEMO_WEBHOOK_TOKEN) as stack:
        # as `python -m sandbox serve` starts the demo company: the simulator's webhook, every event
        stack.aircall.webhooks.add(url=OUR_URL, custom_name="call simulator (demo)", token=DEMO_WEBHOOK_TOKEN)
        before = await checks(stack)
        offered = sorted({check["fix"] for check in before.values() if check["fix"]})
        for fix in offered:
            answer = await stack.web.post("/api/setup/fix", json={"fix": fix}, headers=stack.api_headers)
            assert answer.status_code == 200, answer.text
        after = await checks(stack)
        webhook_count = len(stack.aircall.webhooks.webhooks)

    assert "enable_webhook" in offered and "create_tags" in offered
    assert [check_id for check_id, check in after.items() if check["status"] == "fail"] == []
    assert (after["aircall_webhook"]["status"], after["tags_for_actions"]["status"]) == ("ok", "ok")
    assert [check["fix"] for check in after.values() if check["fix"]] == []
    assert webhook_count == 1

