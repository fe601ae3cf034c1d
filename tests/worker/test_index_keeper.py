from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from sandbox.faults import ScriptedFault
from tests.index_kit import build, keeper_for, searches, source_for
from tests.stack import demo_data, running_stack

pytestmark = pytest.mark.anyio


async def test_a_page_that_fails_mid_build_is_retried_soon_not_after_a_poll_interval(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        # the second scan page answers 503 twice: two failed rounds in a row
        stack.bullhorn.faults.script(ScriptedFault("POST search/ClientContact", status=503, remaining=2))
        stop = asyncio.Event()
        keeper = keeper_for(stack, page_size=200, pages_per_run=2)
        task = asyncio.create_task(keeper.run_forever(poll_s=3600, retry_s=0.05, stop=stop))
        for _ in range(500):
            if source_for(stack).status().ready:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

        assert source_for(stack).status().ready
        assert stack.bullhorn.faults.faults_injected["scripted POST search/ClientContact"] == 2


async def test_a_build_asks_bullhorn_for_each_page_once_however_rounds_split_it(tmp_path: Path) -> None:
    data = demo_data()
    async with running_stack(tmp_path) as stack:
        before = {entity: searches(stack, entity) for entity in ("Candidate", "ClientContact")}
        rounds = await build(keeper_for(stack, page_size=100, pages_per_run=3))

        asked = {entity: searches(stack, entity) - before[entity] for entity in before}

    # one count probe per entity, then one request per page of 100
    assert asked == {"Candidate": 1 + math.ceil(len(data.candidates) / 100),
                     "ClientContact": 1 + math.ceil(len(data.contacts) / 100)}
    assert rounds == math.ceil((asked["Candidate"] + asked["ClientContact"] - 2) / 3)
