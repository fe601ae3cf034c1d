"""Over-long and NUL-containing fields from Aircall never stick a call, on SQLite and PostgreSQL (DESIGN §14)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.states import SETTLED
from tests.stack import Stack, running_stack
from tests.worker_kit import attempt_rows, caller, events_of, notes_of, row, script

pytestmark = pytest.mark.anyio

LONG_LINE_NAME = "Recruitment line " + "x" * 233  # 250 characters: the column holds 200


@pytest.fixture
async def stack(tmp_path: Path, store_url: str) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path, database_url=store_url) as running:
        yield running


async def _deliver_altered(
    stack: Stack, call_id: int, raw_digits: str, alter: Callable[[dict[str, Any]], None]
) -> None:
    for event in events_of(script(call_id, raw_digits)):
        envelope = copy.deepcopy(event.envelope)
        alter(envelope["data"])
        answer = await stack.deliver(envelope)
        assert answer.status_code == 200, answer.text
    await stack.settle()


async def test_a_250_character_line_name_is_cut_to_its_column_and_the_call_syncs(stack: Stack) -> None:
    def long_name(data: dict[str, Any]) -> None:
        data["number"]["name"] = LONG_LINE_NAME

    await _deliver_altered(stack, 7_100_001, caller("candidate").raw_digits, long_name)
    worker = await stack.worker()
    await worker.run_once()

    synced = row(stack, 7_100_001)
    assert synced["status"] == "synced"
    assert synced["number_name"] == LONG_LINE_NAME[:200]
    assert len(notes_of(stack, 7_100_001)) == 1


@pytest.mark.parametrize(
    "alteration",
    [
        {"raw_digits": "+1 415 555 " + "0" * 70},
        {"direction": "inbound" * 4},
        {"raw_digits": "+1 415\x00 555 0100"},
        {"number": {"id": 1, "name": "Main\x00line", "digits": "+1 415 555 0000"}},
        {"user": {"id": 5, "email": "ada\x00@northwind.test", "name": "Ada\x00"}},
    ],
    ids=["raw_digits_over_64", "direction_over_16", "nul_in_raw_digits", "nul_in_line_name", "nul_in_agent"],
)
async def test_an_oversized_or_nul_field_is_stored_and_the_call_settles_with_a_reason(
    stack: Stack, alteration: dict[str, Any]
) -> None:
    await _deliver_altered(stack, 7_100_002, caller("candidate").raw_digits, lambda data: data.update(alteration))
    worker = await stack.worker()
    await worker.run_once()

    settled = row(stack, 7_100_002)
    assert settled["status"] in {str(state) for state in SETTLED}
    assert settled["locked_by"] is None
    assert settled["status"] == "synced" or settled["explanation"]
    for name in ("raw_digits", "direction", "number_name", "agent_email"):
        assert "\x00" not in (settled[name] or "")


async def test_an_unexpected_error_while_syncing_records_an_attempt_each_time_and_the_call_ends_with_a_reason(
    stack: Stack,
) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug in a Bullhorn answer's handling")

    await _deliver_altered(stack, 7_100_003, caller("candidate").raw_digits, lambda data: None)
    worker = await stack.worker(transport=httpx.MockTransport(broken))
    await worker.run_once()

    settled = row(stack, 7_100_003)
    assert (settled["status"], settled["locked_by"]) == ("dead", None)  # retries are due at once in tests
    assert "RuntimeError" in settled["explanation"]
    failures = [found for found in attempt_rows(stack, 7_100_003) if found["kind"] == "sync"]
    assert len(failures) == stack.settings.max_attempts
    assert all(found["outcome"] == "error" and "a bug in a Bullhorn answer" in found["error"] for found in failures)
