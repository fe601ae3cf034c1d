"""`/metrics` values after real traffic: webhooks, cards, cache hits, and the worker's queue and attempts."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.stack import WEBHOOK_TOKEN, Stack, running_stack
from tests.worker_kit import caller, ended_s, kinds, play, script

pytestmark = pytest.mark.anyio

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _scrape(stack: Stack) -> Samples:
    response = await stack.web.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_webhooks_cards_and_cache_hits_are_counted_as_they_happen(tmp_path: Path) -> None:
    known = caller("candidate")
    first, second = script(7001, known.raw_digits), script(7002, known.raw_digits)
    async with running_stack(tmp_path) as stack:
        before = await _scrape(stack)
        await play(stack, first, until_s=ended_s(first) - 1)
        # the same caller again: the card's lookup is answered from the in-process cache
        await play(stack, second, until_s=0)
        answer = await stack.web.get("/api/insight", params={"phone": known.raw_digits}, headers=stack.api_headers)
        after = await _scrape(stack)

    assert answer.status_code == 200 and answer.json()["cached"] is True
    assert _value(before, "callbridge_lookup_cache_hits_total") == 0
    assert _value(after, "callbridge_lookup_cache_hits_total") == 2
    assert _value(after, "callbridge_webhooks_total", event="call.created", outcome="accepted") == 2
    assert _value(after, "callbridge_cards_total", outcome="pushed") == 2
    assert _value(after, "callbridge_lookup_seconds_count", source="bullhorn") == 1
    assert _value(after, "callbridge_lookup_seconds_count", source="cache") == 2


async def test_queue_depth_and_sync_outcomes_are_read_from_the_store_the_worker_writes(tmp_path: Path) -> None:
    matched = script(7101, caller("candidate").raw_digits)
    unknown = script(7102, "+1 415 555 0000")
    async with running_stack(tmp_path) as stack:
        await play(stack, matched)
        await play(stack, unknown)
        queued = await _scrape(stack)
        await (await stack.worker()).run_once()
        drained = await _scrape(stack)
        recorded = kinds(stack, 7101) + kinds(stack, 7102)

    assert _value(queued, "callbridge_sync_queue_depth", state="pending") == 2
    assert _value(drained, "callbridge_sync_queue_depth", state="pending") == 0
    assert _value(drained, "callbridge_sync_queue_depth", state="retrying") == 0
    assert recorded == [("create", "ok"), ("match", "0 match(es)")]
    assert _value(drained, "callbridge_sync_outcomes_total", kind="create", outcome="ok") == 1
    assert _value(drained, "callbridge_sync_outcomes_total", kind="match", outcome="no_match") == 1
    assert _value(queued, "callbridge_sync_outcomes_total", kind="create", outcome="ok") == 0


async def test_300_unknown_event_names_are_counted_under_other_and_metrics_stay_small(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        for number in range(300):
            envelope = {"event": f"made.up.{number}", "timestamp": 1, "token": WEBHOOK_TOKEN, "data": {"id": number}}
            assert (await stack.web.post("/webhooks/aircall", json=envelope)).json() == {"status": "ignored"}
        refused = {"event": "made.up.unauthorized", "timestamp": 1, "token": "wrong", "data": {"id": 1}}
        assert (await stack.web.post("/webhooks/aircall", json=refused)).status_code == 401
        response = await stack.web.get("/metrics")
        samples = await _scrape(stack)

    webhook_series = [labels for name, labels in samples if name == "callbridge_webhooks_total"]
    assert _value(samples, "callbridge_webhooks_total", event="other", outcome="ignored") == 300
    assert _value(samples, "callbridge_webhooks_total", event="other", outcome="unauthorized") == 1
    assert len(webhook_series) == 2
    assert "made.up" not in response.text
    assert len(response.content) < 20_000
