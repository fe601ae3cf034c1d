"""The Bullhorn API meter seen from outside: /api/summary and /metrics after real traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.people import AGENTS, LINES
from tests.stack import API_KEY, WEBHOOK_TOKEN, Stack, demo_data, running_stack

pytestmark = pytest.mark.anyio


async def _ring(stack: Stack, call_id: int, raw_digits: str) -> None:
    script = CallScript(call_id=call_id, kind=CallKind.INBOUND_ANSWERED, agent=AGENTS[0], line=LINES[0],
                        raw_digits=raw_digits, started_at=1_795_000_000, talk_s=60)
    await stack.deliver(lifecycle(script, token=WEBHOOK_TOKEN)[0].envelope)
    await stack.settle()


async def _sandbox_requests(stack: Stack) -> dict[str, Any]:
    answer = await stack.bullhorn_admin.get("/_sandbox/requests")
    return dict(answer.json())


async def _metric_values(stack: Stack) -> dict[str, float]:
    text = (await stack.web.get("/metrics")).text
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("callbridge_bullhorn_requests"):
                purpose = sample.labels.get("purpose")
                values[f"{sample.name}:{purpose}" if purpose else sample.name] = sample.value
    return values


async def test_ring_lookups_are_counted_as_lookup_and_match_what_bullhorn_received(tmp_path: Path) -> None:
    async with running_stack(tmp_path, BULLHORN_MONTHLY_API_BUDGET="50000") as stack:
        callers = [caller for caller in demo_data().callers if caller.kind == "candidate"][:3]
        for call_id, caller in enumerate(callers, start=501):
            await _ring(stack, call_id, caller.raw_digits)
        searches = sum(count for endpoint, count in (await _sandbox_requests(stack))["endpoints"].items()
                       if "search" in endpoint)
        summary = (await stack.web.get("/api/summary", headers={"Authorization": f"Bearer {API_KEY}"})).json()
    meter = summary["bullhorn_requests"]
    assert searches > 0
    assert meter["by_purpose"]["lookup"] == searches
    assert meter["by_purpose"]["session"] >= 1
    assert meter["total"] == sum(meter["by_purpose"].values())
    assert meter["budget"] == 50_000
    assert meter["projected"] >= meter["total"]
    assert meter["month"] == summary["generated_at"][:7]


async def test_metrics_report_the_same_month_to_date_figures_as_the_summary(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        caller = next(caller for caller in demo_data().callers if caller.kind == "contact")
        await _ring(stack, 601, caller.raw_digits)
        summary = (await stack.web.get("/api/summary", headers={"Authorization": f"Bearer {API_KEY}"})).json()
        values = await _metric_values(stack)
    meter = summary["bullhorn_requests"]
    assert values["callbridge_bullhorn_requests_month:lookup"] == meter["by_purpose"]["lookup"] > 0
    assert values["callbridge_bullhorn_requests_budget"] == 100_000
    assert values["callbridge_bullhorn_requests_projected"] >= meter["total"]
