"""Settled calls lose their raw events and phone numbers after CALLBRIDGE_RETENTION_DAYS; the row stays (§14)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from insight.store.tables import events, utcnow
from insight.worker.retention import purge_expired
from tests.stack import WEBHOOK_TOKEN, Stack, running_stack
from tests.worker_kit import caller, ended_s, play, row, script

pytestmark = pytest.mark.anyio

SETTLED_CALL, ONGOING_CALL = 7_300_001, 7_300_002


@pytest.fixture
async def stack(tmp_path: Path, store_url: str) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path, database_url=store_url) as running:
        yield running


def _payloads(stack: Stack, call_id: int) -> list[str]:
    with stack.store.engine.connect() as connection:
        return list(connection.execute(select(events.c.payload).where(events.c.call_id == call_id)).scalars())


async def _settled_and_ongoing(stack: Stack) -> str:
    raw_digits = caller("candidate").raw_digits
    await play(stack, script(SETTLED_CALL, raw_digits))
    ongoing = script(ONGOING_CALL, raw_digits)
    await play(stack, ongoing, until_s=ended_s(ongoing) - 1)
    await (await stack.worker()).run_once()
    assert row(stack, SETTLED_CALL)["status"] == "synced"
    return raw_digits


async def test_after_the_retention_period_a_settled_call_keeps_its_row_with_a_masked_number_and_no_payloads(
    stack: Stack,
) -> None:
    raw_digits = await _settled_and_ongoing(stack)
    later = utcnow() + timedelta(days=stack.settings.retention_days, minutes=1)

    assert await purge_expired(stack.store, stack.settings, now=later) == 2

    purged = row(stack, SETTLED_CALL)
    digits = "".join(ch for ch in raw_digits if ch.isdigit())
    assert purged["status"] == "synced" and purged["purged_at"] is not None
    assert purged["raw_digits"].endswith(digits[-4:]) and digits not in purged["raw_digits"].replace("*", "")
    assert "*" in purged["phone_e164"] and "*" in purged["state_json"]["raw_digits"]
    assert set(_payloads(stack, SETTLED_CALL)) == {"{}"}
    detail = await stack.web.get(f"/api/calls/{SETTLED_CALL}", headers=stack.api_headers)
    assert detail.status_code == 200 and detail.json()["raw_digits"] == purged["raw_digits"]


async def test_within_the_retention_period_nothing_is_purged(stack: Stack) -> None:
    raw_digits = await _settled_and_ongoing(stack)
    sooner = utcnow() + timedelta(days=stack.settings.retention_days - 1)

    assert await purge_expired(stack.store, stack.settings, now=sooner) == 0
    assert row(stack, SETTLED_CALL)["raw_digits"] == raw_digits


async def test_a_call_that_never_ended_within_the_retention_period_is_dead_saying_why_and_purged(stack: Stack) -> None:
    raw_digits = await _settled_and_ongoing(stack)
    later = utcnow() + timedelta(days=stack.settings.retention_days, minutes=1)

    await purge_expired(stack.store, stack.settings, now=later)

    never_ended = row(stack, ONGOING_CALL)
    assert never_ended["status"] == "dead" and never_ended["next_attempt_at"] is None
    assert "never said this call ended" in never_ended["explanation"]
    assert never_ended["purged_at"] is not None and raw_digits not in never_ended["raw_digits"]
    assert set(_payloads(stack, ONGOING_CALL)) == {"{}"}


async def test_an_ai_event_whose_call_never_came_is_purged_after_the_retention_period(stack: Stack) -> None:
    summary = {"event": "summary.created", "resource": "summary", "timestamp": int(utcnow().timestamp()),
               "token": WEBHOOK_TOKEN, "data": {"id": 55, "call_id": 7_300_003, "content": "Asked about the role"}}
    assert (await stack.deliver(summary)).json() == {"status": "accepted"}
    later = utcnow() + timedelta(days=stack.settings.retention_days, minutes=1)

    assert await purge_expired(stack.store, stack.settings, now=later) == 1

    orphan = row(stack, 7_300_003)
    assert orphan["status"] == "dead" and orphan["purged_at"] is not None
    assert set(_payloads(stack, 7_300_003)) == {"{}"}
