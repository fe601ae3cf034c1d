from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from insight.domain.retry_policy import RetryPolicy
from sandbox.ai_events import ai_lifecycle, rest_answers
from sandbox.aircall import AircallSandboxConfig
from sandbox.bullhorn import BullhornSandboxConfig
from sandbox.calls import CallScript
from shared.states import SyncState
from tests.stack import WEBHOOK_TOKEN, Stack, running_stack
from tests.worker_kit import CommentScript, caller, ended_s, kinds, notes_of, play, row, script

pytestmark = pytest.mark.anyio

NO_LIMIT = AircallSandboxConfig(requests_per_minute=None)
CREATE_ONLY = BullhornSandboxConfig(note_edit_allowed=False)


async def play_ai(stack: Stack, call: CallScript) -> None:
    stack.aircall.insights[call.call_id] = rest_answers(call)
    for event in ai_lifecycle(call, token=WEBHOOK_TOKEN):
        assert (await stack.deliver(event.envelope)).status_code == 200


async def detail(stack: Stack, call_id: int) -> dict[str, Any]:
    response = await stack.web.get(f"/api/calls/{call_id}", headers=stack.api_headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_write_once_writes_after_the_settle_time_and_lists_a_late_comment_without_editing(
    tmp_path: Path,
) -> None:
    call = script(8601, caller("candidate").raw_digits, comments=[CommentScript("Wants two more CVs", 400)])
    async with running_stack(tmp_path, bullhorn_config=CREATE_ONLY, CALLBRIDGE_NOTE_MODE="once",
                             CALLBRIDGE_NOTE_AI="none") as stack:
        worker = await stack.worker()
        await play(stack, call, until_s=ended_s(call))
        await worker.run_once()
        assert notes_of(stack, 8601) == [] and row(stack, 8601)["status"] == SyncState.pending

        stack.clock.advance(121)
        await worker.run_once()
        [note] = [dict(found) for found in notes_of(stack, 8601)]
        await play(stack, call, after_s=ended_s(call))
        counts = await worker.run_once()

        [after] = notes_of(stack, 8601)
        shown = await detail(stack, 8601)
    assert counts["synced"] == 1 and after == note and "Wants two more CVs" not in note["comments"]
    assert kinds(stack, 8601) == [("create", "ok")]
    [late] = shown["late"]
    assert (late["event"], late["summary"]) == ("call.commented", "Comment: Wants two more CVs")
    assert late["received_at"].endswith("Z") and shown["status"] == "synced"
    assert "arrived after the note was written" in shown["explanation"]


async def test_write_once_waits_for_the_ai_summary_and_writes_it_in_the_one_note(tmp_path: Path) -> None:
    call = script(8602, caller("contact").raw_digits)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT, bullhorn_config=CREATE_ONLY,
                             CALLBRIDGE_NOTE_MODE="once") as stack:
        worker = await stack.worker()
        await play(stack, call)
        stack.clock.advance(121)
        await worker.run_once()
        assert notes_of(stack, 8602) == []  # settled, but the summary is not in yet

        await play_ai(stack, call)
        stack.clock.advance(16)
        await worker.run_once()

        [note] = notes_of(stack, 8602)
        shown = await detail(stack, 8602)
    assert "<b>Summary</b>" in note["comments"] and "<b>Action items</b>" in note["comments"]
    assert kinds(stack, 8602) == [("create", "ok")] and shown["late"] == []
    assert shown["ai"]["summary"].startswith("The caller and")


async def test_write_once_gives_up_waiting_for_the_summary_and_lists_it_as_late_when_it_comes(tmp_path: Path) -> None:
    call = script(8603, caller("candidate").raw_digits)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT, CALLBRIDGE_NOTE_MODE="once",
                             CALLBRIDGE_NOTE_AI_WAIT_S="60") as stack:
        worker = await stack.worker()
        await play(stack, call)
        stack.clock.advance(121)
        await worker.run_once()
        assert notes_of(stack, 8603) == []

        stack.clock.advance(61)
        await worker.run_once()
        [note] = [dict(found) for found in notes_of(stack, 8603)]
        await play_ai(stack, call)
        await worker.run_once()

        shown = await detail(stack, 8603)
    assert "<b>Summary</b>" not in note["comments"] and notes_of(stack, 8603) == [note]
    assert kinds(stack, 8603) == [("create", "ok")]
    assert [entry["event"] for entry in shown["late"]] == [
        "summary.created", "topics.created", "sentiment.created", "action_item.created", "action_item.created"]
    assert shown["late"][0]["summary"].startswith("Summary: The caller and")


async def test_update_mode_explains_a_create_only_api_user_in_plain_words_and_suggests_once(tmp_path: Path) -> None:
    call = script(8604, caller("candidate").raw_digits, comments=[CommentScript("late", 300)])
    async with running_stack(tmp_path, bullhorn_config=CREATE_ONLY) as stack:
        worker = await stack.worker()
        await play(stack, call, until_s=ended_s(call))
        await worker.run_once()
        await play(stack, call, after_s=ended_s(call))

        await worker.run_once()

        shown = await detail(stack, 8604)
    assert shown["status"] == "failed" and kinds(stack, 8604) == [("create", "ok"), ("update", "error")]
    assert "lets this API user create notes but not edit them" in shown["explanation"]
    assert "set CALLBRIDGE_NOTE_MODE=once" in shown["explanation"]


async def test_write_once_adopts_a_note_whose_answer_was_lost_and_never_edits_it(tmp_path: Path) -> None:
    call = script(8605, caller("contact").raw_digits, comments=[CommentScript("Call back at five", 400)])
    async with running_stack(tmp_path, bullhorn_config=CREATE_ONLY, CALLBRIDGE_NOTE_MODE="once",
                             CALLBRIDGE_NOTE_SETTLE_S="0", CALLBRIDGE_NOTE_AI="none") as stack:
        worker = await stack.worker(policy=RetryPolicy(max_attempts=8, base_delay_s=60, min_delay_s=60,
                                                       max_delay_s=60))
        await play(stack, call, until_s=ended_s(call))
        fault = {"endpoint": "PUT entity/Note", "status": 504, "lost_answer": True}
        assert (await stack.bullhorn_admin.post("/_sandbox/faults", json=fault)).status_code == 200
        await worker.run_once()
        await play(stack, call, after_s=ended_s(call))  # the written note now differs from the call

        stack.clock.advance(61)
        counts = await worker.run_once()

        [note] = notes_of(stack, 8605)
    assert counts["synced"] == 1 and "Call back at five" not in note["comments"]
    assert kinds(stack, 8605) == [("create", "error"), ("reconcile", "found")]
