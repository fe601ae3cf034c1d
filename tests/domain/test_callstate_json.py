from __future__ import annotations

import json

from insight.domain.aircall_events import parse_envelope
from insight.domain.callstate import reduce_call
from insight.domain.callstate_json import state_to_json
from tests.worker_kit import CallKind, CommentScript, TagScript, events_of, script


def test_the_call_summary_has_exactly_the_keys_the_ops_api_reads_and_is_plain_json() -> None:
    call = script(901, "+1 415-555-0123", CallKind.INBOUND_ANSWERED,
                  tags=[TagScript("Callback Request", 20), TagScript("BD Call", 30)],
                  comments=[CommentScript("Sends CV", 200)])
    state = reduce_call(parse_envelope(event.envelope) for event in events_of(call))

    summary = state_to_json(state)

    assert json.loads(json.dumps(summary)) == summary
    assert list(summary) == [
        "call_id", "direction", "call_type", "agent", "number_name", "number_digits", "raw_digits", "started_at",
        "answered_at", "ended_at", "talk_time_s", "tags", "first_agent_tag", "comments", "asset", "is_over",
        "hung_up", "events_seen"]
    assert summary["agent"] == {"id": 731401, "name": "Grace Hopper", "email": "grace.hopper@northwind-staffing.com"}
    assert summary["started_at"] == "2026-11-18T11:06:40Z"
    assert summary["tags"] == [
        {"name": "Callback Request", "tagged_at": "2026-11-18T11:07:00Z", "by_agent": False},
        {"name": "BD Call", "tagged_at": "2026-11-18T11:07:10Z", "by_agent": True}]
    assert summary["first_agent_tag"] == "BD Call"
    assert summary["comments"] == [
        {"id": 9010, "content": "Sends CV", "posted_at": "2026-11-18T11:10:00Z", "author": "Grace Hopper"}]
    assert summary["events_seen"] == sorted(summary["events_seen"]) and summary["is_over"] is True
