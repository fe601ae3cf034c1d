from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sandbox.calls import final_call
from tests.stack import running_stack
from tests.worker_kit import STARTED_AT, caller, script

pytestmark = pytest.mark.anyio


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_an_on_demand_run_answers_202_with_a_job_that_reports_what_it_took_in(tmp_path: Path) -> None:
    call = script(8001, caller("candidate").raw_digits)
    async with running_stack(tmp_path) as stack:
        stack.aircall.calls[call.call_id] = final_call(call)
        started = await stack.web.post("/api/backfill", headers=stack.api_headers, json={
            "from": _iso(datetime.fromtimestamp(STARTED_AT - 60, UTC)),
            "to": _iso(datetime.fromtimestamp(STARTED_AT + 3_600, UTC))})
        await stack.services.backfills.wait()
        job = await stack.web.get(f"/api/backfill/{started.json()['job']}", headers=stack.api_headers)
        summary = (await stack.web.get("/api/summary", headers=stack.api_headers)).json()
        metrics = (await stack.web.get("/metrics")).text

    assert started.status_code == 202
    assert job.status_code == 200
    body = job.json()
    assert (body["status"], body["kind"], body["seen"], body["taken_in"], body["known"]) == (
        "done", "on_demand", 1, 1, 0)
    assert body["from"] == _iso(datetime.fromtimestamp(STARTED_AT - 60, UTC))
    assert summary["backfill"]["calls_taken_in"] == 1
    values = {sample.name: sample.value for family in text_string_to_metric_families(metrics)
              for sample in family.samples}
    assert values["callbridge_backfill_calls_taken_in_total"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"from": "2026-11-20T00:00:00Z", "to": "2026-11-10T00:00:00Z"}, "to"),
    ({"from": _iso(datetime.now(UTC) - timedelta(days=200))}, "from"),
    ({"from": _iso(datetime.now(UTC) - timedelta(days=200)), "to": _iso(datetime.now(UTC) - timedelta(days=1))},
     "from"),
    ({"to": "2026-11-10T00:00:00Z"}, "from"),
    ({"from": "last tuesday"}, "from"),
    ({"from": "2026-11-20T00:00:00"}, "from"),
    ({"from": 1_795_000_000}, "from"),
])
async def test_a_reversed_too_long_or_malformed_range_is_a_400_naming_the_field(
    tmp_path: Path, body: dict[str, object], field: str
) -> None:
    async with running_stack(tmp_path) as stack:
        answer = await stack.web.post("/api/backfill", headers=stack.api_headers, json=body)

    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(field)


async def test_a_body_that_is_not_a_json_object_is_a_400(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        not_json = await stack.web.post("/api/backfill", headers=stack.api_headers, content=b"{")
        a_list = await stack.web.post("/api/backfill", headers=stack.api_headers, json=[])

    assert (not_json.status_code, a_list.status_code) == (400, 400)


async def test_an_unknown_job_is_a_404_and_both_routes_need_the_api_key(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        unknown = await stack.web.get(f"/api/backfill/{'0' * 32}", headers=stack.api_headers)
        garbage = await stack.web.get("/api/backfill/..%2F..%2Fetc", headers=stack.api_headers)
        no_key_post = await stack.web.post("/api/backfill", json={"from": "2026-11-20T00:00:00Z"})
        no_key_get = await stack.web.get(f"/api/backfill/{'0' * 32}")

    assert (unknown.status_code, garbage.status_code) == (404, 404)
    assert (no_key_post.status_code, no_key_get.status_code) == (401, 401)
