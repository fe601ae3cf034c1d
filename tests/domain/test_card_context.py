from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from insight.domain.card_context import (
    CardContext,
    CompanyJobs,
    LiveCall,
    PastCall,
    Pipeline,
    PipelineItem,
    ago,
    call_id_of_note,
    candidate_pipeline,
    context_json,
    context_lines,
    last_contact,
    on_call_now,
    rank_with_context,
)
from insight.domain.card_html import render_card_html
from insight.domain.matching import Match

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
HOUR_MS = 3_600_000


def _job(job_id: int, *, is_open: bool = True) -> dict[str, Any]:
    return {"id": job_id, "title": f"Job {job_id}", "isOpen": is_open, "clientCorporation": {"id": 1, "name": "Acme"}}


def _match(record_id: int, *, owner: str | None = None, modified: int = 0, primary: bool = True) -> Match:
    return Match("Candidate", record_id, f"Person {record_id}", owner, None, "Active",
                 "phone" if primary else "phone2", modified, primary)


def test_only_callbridges_own_external_ids_name_a_call() -> None:
    assert call_id_of_note("aircall:123") == 123
    assert [call_id_of_note(value) for value in ("aircall-sms:1:+1:2026-01-01", "aircall:", "aircall:12x", None,
                                                 "salesforce:1")] == [None] * 5


def test_the_newest_of_calls_and_notes_is_the_last_contact_and_the_ringing_call_is_never_its_own() -> None:
    calls = [PastCall(9, NOW - timedelta(minutes=1), "Ringing Agent", "inbound", None),
             PastCall(7, NOW - timedelta(hours=3), "Ken Thompson", "outbound", "Left Message")]
    notes = [{"dateAdded": NOW_MS - 2 * HOUR_MS, "externalID": "aircall:9", "action": "Inbound Call"},
             {"dateAdded": NOW_MS - 5 * HOUR_MS, "action": "Meeting", "commentingPerson": {"firstName": "A"}}]

    found = last_contact(calls, notes, ringing_call_id=9)

    assert found is not None
    assert (found.by, found.kind, found.action, found.direction) == ("Ken Thompson", "call", "Left Message",
                                                                     "outbound")


def test_deleted_notes_and_notes_without_a_date_are_no_contact() -> None:
    notes: list[dict[str, Any]] = [{"dateAdded": NOW_MS, "isDeleted": True, "action": "x"}, {"action": "y"}]
    assert last_contact([], notes, ringing_call_id=None) is None


def test_sms_notes_are_kind_sms() -> None:
    found = last_contact([], [{"dateAdded": NOW_MS, "externalID": "aircall-sms:4:+14155550123:2026-12-03"}],
                         ringing_call_id=None)
    assert found is not None and found.kind == "sms"


def test_each_colleague_shows_once_with_their_earliest_live_call_and_never_the_agent_themselves() -> None:
    live = [LiveCall(1, "ann@x.com", "Ann", NOW - timedelta(minutes=5)),
            LiveCall(2, "ANN@x.com", "Ann", NOW - timedelta(minutes=9)),
            LiveCall(3, "me@x.com", "Me", NOW - timedelta(minutes=1)),
            LiveCall(4, "bob@x.com", "Bob", NOW)]

    found = on_call_now(live, ringing_call_id=4, agent_email="Me@X.com")

    assert [(call.agent, call.since) for call in found] == [("Ann", NOW - timedelta(minutes=9))]


def test_a_placement_stands_for_its_submission_and_ended_or_closed_ones_drop_out() -> None:
    submissions = [
        {"id": 1, "status": "Submitted", "dateAdded": 10, "jobOrder": _job(100)},
        {"id": 2, "status": "Placed", "dateAdded": 20, "jobOrder": _job(200)},
        {"id": 3, "status": "Client Rejected", "dateAdded": 30, "jobOrder": _job(300)},
        {"id": 4, "status": "Submitted", "dateAdded": 40, "jobOrder": _job(400, is_open=False)},
        {"id": 5, "status": "Submitted", "dateAdded": 50, "jobOrder": _job(500), "isDeleted": True},
    ]
    placements = [
        {"id": 8, "status": "Approved", "dateBegin": 25, "dateEnd": None, "jobOrder": _job(200)},
        {"id": 9, "status": "Approved", "dateBegin": 5, "dateEnd": NOW_MS - 1, "jobOrder": _job(600)},
    ]

    pipeline = candidate_pipeline(submissions, placements, now_ms=NOW_MS)

    assert [(item.job_id, item.status) for item in pipeline.items] == [(200, "Approved"), (100, "Submitted")]
    assert pipeline.count == 2 and pipeline.job_to_link is None


def test_exactly_one_active_job_is_the_one_to_link() -> None:
    one = candidate_pipeline([{"status": "Submitted", "dateAdded": 1, "jobOrder": _job(7)}], [], now_ms=NOW_MS)
    none = candidate_pipeline([], [], now_ms=NOW_MS)
    assert (one.job_to_link, none.job_to_link) == (7, None)


def test_ownership_then_pipeline_then_recency_and_the_primary_field_still_first() -> None:
    fresh, owned, active = _match(1, modified=30), _match(2, owner="Ann  Lee", modified=10), _match(3, modified=20)
    secondary = _match(4, owner="Ann Lee", modified=99, primary=False)

    ranked = rank_with_context([fresh, owned, active, secondary], agent_owner="ann lee",
                               active={("Candidate", 3)})

    assert [match.id for match in ranked] == [2, 3, 1, 4]
    assert [m.id for m in rank_with_context([fresh, owned], agent_owner=None, active=())] == [1, 2]


def test_ago_speaks_in_minutes_hours_and_days() -> None:
    assert [ago(NOW - delta, NOW) for delta in (timedelta(seconds=5), timedelta(minutes=5), timedelta(hours=2),
                                                timedelta(days=3))] == ["just now", "5 min ago", "2 h ago", "3 d ago"]


def test_the_short_lines_name_the_colleague_the_last_contact_and_the_jobs() -> None:
    context = CardContext(
        last_contact=last_contact([PastCall(1, NOW - timedelta(hours=2), "Ken Thompson", "outbound", "Left Message")],
                                  [], ringing_call_id=None),
        on_call_now=(on_call_now([LiveCall(2, "a@x", "Ann Lee", NOW)], ringing_call_id=3, agent_email=None)),
        pipeline=Pipeline((PipelineItem(5, "Welder", "Acme", "Submitted", 1),), 4),
    )

    lines = context_lines(context_json(context), NOW)

    assert lines == [("On a call now", "Ann Lee"), ("Last contact", "2 h ago, Ken Thompson, Left Message"),
                     ("Submitted", "Welder"), ("Pipeline", "3 more active")]
    assert context_lines(context_json(CardContext(pipeline=CompanyJobs(0))), NOW) == []


def test_the_html_card_escapes_the_context() -> None:
    hostile = "<script>x</script>"
    context = CardContext(on_call_now=(on_call_now([LiveCall(2, "a@x", hostile, NOW)], ringing_call_id=None,
                                                   agent_email=None)),
                          pipeline=Pipeline((PipelineItem(5, hostile, hostile, hostile, 1),), 1))
    page = render_card_html({"phone": "+14155550123", "matches": [], "context": context_json(context)},
                            refresh_s=0, now=NOW)
    assert hostile not in page and "&lt;script&gt;" in page and "On a call with this number now" in page
