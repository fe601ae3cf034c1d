from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from insight.domain.budget import Purpose
from insight.upstream.meter import MeteredTransport, RequestMeter, metered

pytestmark = pytest.mark.anyio


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={})


def _meter() -> RequestMeter:
    return RequestMeter(clock=lambda: datetime(2026, 12, 3, tzinfo=UTC))


async def test_each_request_counts_once_under_the_purpose_of_its_context() -> None:
    meter = _meter()
    async with httpx.AsyncClient(transport=MeteredTransport(httpx.MockTransport(_ok), meter)) as http:
        with metered(Purpose.lookup):
            await http.get("http://bullhorn.test/search/Candidate")
            await http.get("http://bullhorn.test/search/ClientContact")
        with metered(Purpose.note):
            await http.put("http://bullhorn.test/entity/Note")
        await http.get("http://bullhorn.test/ping")
    assert meter.take() == {("2026-12", "lookup"): 2, ("2026-12", "note"): 1, ("2026-12", "other"): 1}


async def test_tasks_started_inside_a_metered_block_inherit_its_purpose() -> None:
    meter = _meter()
    async with httpx.AsyncClient(transport=MeteredTransport(httpx.MockTransport(_ok), meter)) as http:
        with metered(Purpose.phone_index):
            tasks = [asyncio.create_task(http.get(f"http://bullhorn.test/entity/Candidate/{i}")) for i in range(3)]
        await asyncio.gather(*tasks)
    assert meter.take() == {("2026-12", "index"): 3}


async def test_a_transport_with_a_fixed_purpose_ignores_the_context() -> None:
    meter = _meter()
    transport = MeteredTransport(httpx.MockTransport(_ok), meter, purpose=Purpose.session)
    async with httpx.AsyncClient(transport=transport) as http:
        with metered(Purpose.lookup):
            await http.post("http://bullhorn.test/oauth/token")
    assert meter.take() == {("2026-12", "session"): 1}


async def test_a_request_that_fails_in_transit_still_counts() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    meter = _meter()
    async with httpx.AsyncClient(transport=MeteredTransport(httpx.MockTransport(broken), meter)) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("http://bullhorn.test/ping")
    assert meter.take() == {("2026-12", "other"): 1}


def test_taking_the_counts_empties_the_meter_and_giving_back_restores_them() -> None:
    meter = _meter()
    meter.count(Purpose.note)
    taken = meter.take()
    assert meter.take() == {}
    meter.give_back(taken)
    meter.count(Purpose.note)
    assert meter.take() == {("2026-12", "note"): 2}
