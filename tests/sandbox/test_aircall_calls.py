from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.datastructures import URL

from sandbox.aircall import AircallSandboxConfig, create_aircall_app
from sandbox.aircall_calls import list_calls

AUTH = ("demo-api-id", "demo-api-token")
BASE = "http://aircall.test"


def _calls(count: int, start: int = 1_795_000_000, step: int = 60) -> list[dict[str, Any]]:
    return [{"id": 1000 + i, "started_at": start + i * step, "ended_at": start + i * step + 30} for i in range(count)]


@pytest.mark.anyio
async def test_the_call_list_filters_on_start_time_in_seconds_and_pages_by_fifty_at_most() -> None:
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    for call in _calls(120):
        app.state.sandbox.calls[call["id"]] = call
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, auth=AUTH) as client:
        window = await client.get("/v1/calls", params={"from": 1_795_000_600, "to": 1_795_001_200, "per_page": 100})
        desc = await client.get("/v1/calls", params={"order": "desc", "per_page": 2})
        bad = await client.get("/v1/calls", params={"from": "yesterday"})
    body = window.json()
    assert [call["id"] for call in body["calls"]] == list(range(1010, 1021))
    assert body["meta"]["per_page"] == 50 and body["meta"]["total"] == 11 and body["meta"]["next_page_link"] is None
    assert [call["id"] for call in desc.json()["calls"]] == [1119, 1118]
    assert desc.json()["meta"]["next_page_link"].startswith("http://aircall.test/v1/calls?")
    assert bad.status_code == 400 and "from" in bad.text


def test_a_query_yields_at_most_ten_thousand_calls_however_it_is_paged_while_total_tells_the_truth() -> None:
    calls = _calls(10_050, step=1)
    last = list_calls(calls, URL("http://aircall.test/v1/calls?per_page=50&page=200"))
    past = list_calls(calls, URL("http://aircall.test/v1/calls?per_page=50&page=201"))
    assert last["meta"]["total"] == 10_050 and len(last["calls"]) == 50 and last["meta"]["next_page_link"] is None
    assert past["calls"] == []
