from __future__ import annotations

from pathlib import Path

import pytest

from insight.domain.ai_insights import MAX_COMMENTS_CHARS
from sandbox.ai_events import AiScript, ai_lifecycle, rest_answers
from sandbox.aircall import AircallSandboxConfig
from sandbox.calls import CallScript
from tests.stack import WEBHOOK_TOKEN, Stack, running_stack
from tests.worker_kit import caller, kinds, notes_of, play, row, script

pytestmark = pytest.mark.anyio

SECTIONS = ("<b>Summary</b>", "<b>Topics</b>", "<b>Sentiment</b>", "<b>Action items</b>")
NO_LIMIT = AircallSandboxConfig(requests_per_minute=None)


async def play_ai(stack: Stack, call: CallScript, shape: AiScript | None = None) -> dict[str, set[str]]:
    """Deliver the call's AI webhooks (the Aircall fake answers its AI endpoints as the simulator would)."""
    stack.aircall.insights[call.call_id] = rest_answers(call, shape=shape)
    answers: dict[str, set[str]] = {}
    for event in ai_lifecycle(call, token=WEBHOOK_TOKEN, shape=shape):
        response = await stack.deliver(event.envelope)
        assert response.status_code == 200, response.text
        answers.setdefault(event.envelope["event"], set()).add(response.json()["status"])
    return answers


def fetches(stack: Stack) -> dict[str, int]:
    return {endpoint: count for endpoint, count in stack.aircall.injector.requests.items()
            if endpoint.startswith("GET calls/") and endpoint.count("/") == 2}


async def test_ai_insights_after_call_ended_update_the_one_note_in_place_with_their_sections(tmp_path: Path) -> None:
    call = script(8501, caller("candidate").raw_digits)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        worker = await stack.worker()
        await play(stack, call)
        await worker.run_once()
        [first] = [dict(note) for note in notes_of(stack, 8501)]
        await play_ai(stack, call)

        counts = await worker.run_once()

        [note] = notes_of(stack, 8501)
    assert not any(section in first["comments"] for section in SECTIONS)
    assert counts["synced"] == 1 and note["id"] == first["id"]
    assert all(section in note["comments"] for section in SECTIONS)
    assert "Send the details of" in note["comments"] and "Caller: " in note["comments"]
    assert "<b>Transcript</b>" not in note["comments"]  # only when CALLBRIDGE_NOTE_AI includes it
    assert note["comments"].rstrip().endswith("<p>Aircall call #8501</p>")
    assert kinds(stack, 8501) == [("create", "ok"), ("update", "ok")]


async def test_ai_insights_before_call_ended_go_into_the_first_note_with_no_update(tmp_path: Path) -> None:
    call = script(8502, caller("contact").raw_digits)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        await play_ai(stack, call)
        await play(stack, call)

        await (await stack.worker()).run_once()

        [note] = notes_of(stack, 8502)
    assert all(section in note["comments"] for section in SECTIONS)
    assert kinds(stack, 8502) == [("create", "ok")]


async def test_redelivered_ai_events_change_nothing(tmp_path: Path) -> None:
    call = script(8503, caller("candidate").raw_digits)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        worker = await stack.worker()
        await play(stack, call)
        await play_ai(stack, call)
        await worker.run_once()
        [before] = [dict(note) for note in notes_of(stack, 8503)]

        answers = await play_ai(stack, call)
        counts = await worker.run_once()

        [after] = notes_of(stack, 8503)
    assert answers.pop("transcription.created") == {"ignored"}  # the transcript is not configured
    assert all(statuses == {"duplicate"} for statuses in answers.values())
    assert after["comments"] == before["comments"] and sum(counts.values()) == 0
    assert kinds(stack, 8503) == [("create", "ok")]


@pytest.mark.parametrize(
    "shape",
    [AiScript(without_content=frozenset()), AiScript(call_id_as="string", without_content=frozenset()),
     AiScript(sentiment_in="content", action_items_as="one_list", without_content=frozenset())],
    ids=["integer_call_id_per_participant_one_event_per_item", "string_call_id", "sentiment_content_list_of_items"],
)
async def test_ai_events_in_every_documented_shape_make_the_same_sections(tmp_path: Path, shape: AiScript) -> None:
    call = script(8504, caller("candidate").raw_digits)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        await play(stack, call)
        await play_ai(stack, call, shape)
        await (await stack.worker()).run_once()

        [note] = notes_of(stack, 8504)
    assert all(section in note["comments"] for section in SECTIONS)
    assert note["comments"].count("<li>") == 3 + 1 + 2  # topics, the caller's sentiment, two action items
    assert fetches(stack) == {}  # every event carried its content


async def test_an_ai_event_without_its_content_is_completed_from_aircalls_rest_api_once(tmp_path: Path) -> None:
    call = script(8505, caller("candidate").raw_digits)
    every_kind = frozenset({"summary", "topics", "sentiment", "action_items", "transcript"})
    async with running_stack(tmp_path, aircall_config=NO_LIMIT, CALLBRIDGE_NOTE_AI="summary,topics,sentiment,"
                             "action_items,transcript") as stack:
        worker = await stack.worker()
        await play(stack, call)
        await play_ai(stack, call, AiScript(without_content=every_kind))
        await worker.run_once()
        [note] = notes_of(stack, 8505)
        archived = {"resource": "call", "event": "call.archived", "timestamp": call.started_at + 3_000,
                    "token": WEBHOOK_TOKEN, "data": {"id": 8505}}
        await stack.deliver(archived)
        await worker.run_once()

        stored = row(stack, 8505)["ai_json"]
    assert all(section in note["comments"] for section in (*SECTIONS, "<b>Transcript</b>"))
    assert "Hi, it&#x27;s" in note["comments"]  # the fetched transcript, escaped
    assert fetches(stack) == {"GET calls/8505/summary": 1, "GET calls/8505/topics": 1,
                              "GET calls/8505/sentiments": 1, "GET calls/8505/action_items": 1,
                              "GET calls/8505/transcription": 1}
    assert stored["sections"]["summary"].startswith("The caller and")


async def test_an_ai_event_for_a_call_not_seen_yet_is_stored_and_applied_when_the_call_arrives(
    tmp_path: Path,
) -> None:
    call = script(8506, caller("contact").raw_digits)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        worker = await stack.worker()
        answers = await play_ai(stack, call)
        waiting = await worker.run_once()
        assert row(stack, 8506)["status"] == "pending" and notes_of(stack, 8506) == []

        await play(stack, call)
        await worker.run_once()

        [note] = notes_of(stack, 8506)
    assert answers.pop("transcription.created") == {"ignored"}
    assert all(statuses == {"accepted"} for statuses in answers.values()) and sum(waiting.values()) == 0
    assert all(section in note["comments"] for section in SECTIONS)


async def test_a_long_transcript_is_shortened_to_stay_within_the_comments_limit_with_a_marker(tmp_path: Path) -> None:
    call = script(8507, caller("candidate").raw_digits)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT, CALLBRIDGE_NOTE_AI="summary,transcript") as stack:
        await play(stack, call)
        await play_ai(stack, call, AiScript(transcript_lines=3_000, without_content=frozenset()))
        await (await stack.worker()).run_once()

        [note] = notes_of(stack, 8507)
    assert len(note["comments"]) <= MAX_COMMENTS_CHARS
    assert "of 3000 lines shown" in note["comments"]
    assert "assets.aircall.io/calls/8507/recording" in note["comments"]
    assert "<b>Topics</b>" not in note["comments"]


async def test_ai_events_of_a_section_the_note_does_not_show_are_ignored(tmp_path: Path) -> None:
    call = script(8508, caller("candidate").raw_digits)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT, CALLBRIDGE_NOTE_AI="none") as stack:
        answers = await play_ai(stack, call)
        await play(stack, call)
        await (await stack.worker()).run_once()

        [note] = notes_of(stack, 8508)
    assert len(answers) == 5 and all(statuses == {"ignored"} for statuses in answers.values())
    assert not any(section in note["comments"] for section in SECTIONS)


async def test_aircall_down_for_a_fetch_writes_the_note_now_and_adds_the_insight_on_a_later_sync(
    tmp_path: Path,
) -> None:
    call = script(8509, caller("candidate").raw_digits)
    down = AircallSandboxConfig(requests_per_minute=None, error_rates={"GET calls/*/summary": 1.0})
    async with running_stack(tmp_path, aircall_config=down) as stack:
        worker = await stack.worker()
        await play(stack, call)
        await play_ai(stack, call, AiScript(without_content=frozenset({"summary"})))
        await worker.run_once()
        [first] = [dict(note) for note in notes_of(stack, 8509)]
        waiting = row(stack, 8509)

        stack.aircall.config.error_rates = {}
        stack.clock.advance(120)
        await worker.run_once()

        [note] = notes_of(stack, 8509)
    assert "<b>Topics</b>" in first["comments"] and "<b>Summary</b>" not in first["comments"]
    assert waiting["status"] == "pending" and "could not be fetched from Aircall" in waiting["explanation"]
    assert "<b>Summary</b>" in note["comments"] and note["id"] == first["id"]
    assert row(stack, 8509)["status"] == "synced"
