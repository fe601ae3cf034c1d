from __future__ import annotations

from datetime import UTC, datetime, timedelta

from insight.domain.aircall_events import parse_envelope
from insight.domain.write_once import SUMMARY_POLL_S, late_entries, once_due_at

ENDED = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def due(now_s: float, *, wants: bool = True, has: bool = False) -> datetime:
    return once_due_at(ended_received_at=ENDED, settle_s=120, ai_wait_s=300, wants_summary=wants, has_summary=has,
                       now=ENDED + timedelta(seconds=now_s))


def test_the_one_write_is_due_the_settle_time_after_call_ended_when_no_summary_is_awaited() -> None:
    assert due(0, wants=False) == due(0, has=True) == ENDED + timedelta(seconds=120)


def test_awaiting_the_summary_looks_again_shortly_and_never_past_the_ai_wait() -> None:
    assert due(0) == ENDED + timedelta(seconds=120)
    assert due(200) == ENDED + timedelta(seconds=200 + SUMMARY_POLL_S)
    assert due(419) == due(10_000) == ENDED + timedelta(seconds=420)


def test_late_entries_name_what_the_note_would_have_shown_oldest_first() -> None:
    comment = parse_envelope({"event": "call.commented", "timestamp": 1_795_000_400, "data": {
        "id": 9, "comments": [{"content": "old", "posted_at": 1}, {"content": "Wants two more CVs", "posted_at": 2}]}})
    summary = parse_envelope({"event": "summary.created", "timestamp": 1_795_000_500,
                              "data": {"id": 1, "call_id": 9, "content": "Talked about " + "x" * 200}})
    archived = parse_envelope({"event": "call.archived", "timestamp": 1_795_000_600, "data": {"id": 9}})
    topics = parse_envelope({"event": "topics.created", "timestamp": 1_795_000_700,
                             "data": {"id": 2, "call_id": 9, "content": ["Pay"]}})

    late = late_entries([(summary, ENDED + timedelta(seconds=5)), (comment, ENDED), (archived, ENDED),
                         (topics, ENDED)], ("summary",))

    assert [(entry["event"], entry["received_at"]) for entry in late] == [
        ("call.commented", "2026-12-03T10:00:00Z"), ("summary.created", "2026-12-03T10:00:05Z")]
    assert late[0]["summary"] == "Comment: Wants two more CVs"
    assert late[1]["summary"].startswith("Summary: Talked about") and len(late[1]["summary"]) <= 130
