from __future__ import annotations

import random
from typing import Any

import pytest

from sandbox.call_mix import ANONYMOUS, pick_caller, plan_calls
from sandbox.calls import (
    ENDED_DELAY_S,
    CallKind,
    CallScript,
    CommentScript,
    ScheduledEvent,
    TagScript,
    call_at,
    final_call,
    lifecycle,
)
from sandbox.people import AGENTS, LINES

START = 1_764_000_000
TOKEN = "demo-webhook-token"


def script(kind: CallKind, **overrides: Any) -> CallScript:
    values: dict[str, Any] = {
        "call_id": 123, "kind": kind, "agent": AGENTS[0], "line": LINES[0], "raw_digits": "+44 20 7946 0958",
        "started_at": START, "ring_s": 10,
        "talk_s": 0 if kind in (CallKind.MISSED, CallKind.VOICEMAIL, CallKind.OUTBOUND_UNANSWERED) else 120,
        "voicemail_s": 25 if kind is CallKind.VOICEMAIL else 0,
        "transfer_to": AGENTS[1] if kind is CallKind.TRANSFERRED else None,
    }
    values.update(overrides)
    return CallScript(**values)


def events_named(events: list[ScheduledEvent], name: str) -> list[ScheduledEvent]:
    return [event for event in events if event.envelope["event"] == name]


def only(events: list[ScheduledEvent], name: str) -> ScheduledEvent:
    found = events_named(events, name)
    assert len(found) == 1, name
    return found[0]


@pytest.mark.parametrize("kind", [CallKind.MISSED, CallKind.VOICEMAIL])
def test_unanswered_inbound_calls_have_no_user_key_except_while_ringing_an_agent(kind):
    events = lifecycle(script(kind, rung=(AGENTS[0], AGENTS[2])), token=TOKEN)
    for event in events:
        data = event.envelope["data"]
        if event.envelope["event"] == "call.ringing_on_agent":
            assert data["user"]["id"] in {AGENTS[0].aircall_id, AGENTS[2].aircall_id}
        else:
            assert "user" not in data
    assert len(events_named(events, "call.ringing_on_agent")) == 2
    assert only(events, "call.ended").envelope["data"]["missed_call_reason"] == "agents_did_not_answer"


def test_inbound_call_created_has_no_user_and_answered_names_the_agent():
    events = lifecycle(script(CallKind.INBOUND_ANSWERED), token=TOKEN)
    assert "user" not in only(events, "call.created").envelope["data"]
    answered = only(events, "call.answered").envelope["data"]
    assert answered["user"]["email"] == AGENTS[0].aircall_email
    assert answered["status"] == "answered"
    assert answered["answered_at"] == START + 10


def test_hungup_is_immediate_and_done_and_ended_comes_about_30_s_later_with_the_recording():
    events = lifecycle(script(CallKind.OUTBOUND_ANSWERED), token=TOKEN)
    hungup, ended = only(events, "call.hungup"), only(events, "call.ended")
    assert hungup.send_at_s == 130
    assert hungup.envelope["data"]["status"] == "done"
    assert hungup.envelope["data"]["ended_at"] == START + 130
    assert hungup.envelope["data"]["recording"] is None
    assert ended.send_at_s - hungup.send_at_s == ENDED_DELAY_S
    assert "X-Amz-Expires=600" in ended.envelope["data"]["recording"]
    assert ended.envelope["data"]["asset"] == "https://assets.aircall.io/calls/123/recording"
    assert ended.envelope["timestamp"] == START + 160


def test_duration_includes_ringing_and_raw_digits_are_the_other_party():
    data = only(lifecycle(script(CallKind.INBOUND_ANSWERED), token=TOKEN), "call.ended").envelope["data"]
    assert data["duration"] == data["ended_at"] - data["started_at"] == 130
    assert data["raw_digits"] == "+44 20 7946 0958"
    assert data["number"]["name"] == LINES[0].name


def test_voicemail_left_comes_after_ended_with_voicemail_url_and_stable_asset():
    events = lifecycle(script(CallKind.VOICEMAIL), token=TOKEN)
    names = [event.envelope["event"] for event in events]
    assert names.index("call.voicemail_left") > names.index("call.ended")
    data = only(events, "call.voicemail_left").envelope["data"]
    assert data["voicemail"].startswith("https://") and "X-Amz-Expires=600" in data["voicemail"]
    assert data["asset"] == "https://assets.aircall.io/calls/123/voicemail"
    assert data["answered_at"] is None and data["status"] == "done"


def test_tagged_payload_carries_all_current_tags_and_untagged_drops_the_removed_one():
    tags = (TagScript("Sourcing Call", 50), TagScript("BD Call", 60, removed_at_s=140), TagScript("Cold Call", 135))
    events = lifecycle(script(CallKind.INBOUND_ANSWERED, tags=tags), token=TOKEN)
    tagged = events_named(events, "call.tagged")
    assert [[tag["name"] for tag in event.envelope["data"]["tags"]] for event in tagged] == [
        ["Sourcing Call"], ["Sourcing Call", "BD Call"], ["Sourcing Call", "BD Call", "Cold Call"],
    ]
    untagged = only(events, "call.untagged").envelope["data"]
    assert [tag["name"] for tag in untagged["tags"]] == ["Sourcing Call", "Cold Call"]
    assert untagged["tags"][0]["tagged_at"] == START + 50
    assert untagged["tags"][0]["tagged_by"]["id"] == AGENTS[0].aircall_id


def test_a_tag_put_on_after_call_ended_is_missing_from_the_ended_payload():
    late = TagScript("Left Message", 130 + ENDED_DELAY_S + 40)
    events = lifecycle(script(CallKind.INBOUND_ANSWERED, tags=(late,)), token=TOKEN)
    assert only(events, "call.ended").envelope["data"]["tags"] == []
    tagged = only(events, "call.tagged")
    assert tagged.send_at_s > only(events, "call.ended").send_at_s
    assert [tag["name"] for tag in final_call(script(CallKind.INBOUND_ANSWERED, tags=(late,)))["tags"]] == [
        "Left Message"
    ]


def test_system_tag_has_empty_tagged_by():
    events = lifecycle(script(CallKind.MISSED, tags=(TagScript("Callback Request", 60),)), token=TOKEN)
    (tag,) = only(events, "call.tagged").envelope["data"]["tags"]
    assert tag["tagged_by"] == {}


def test_comment_arrives_when_scripted_and_keeps_newlines():
    comment = CommentScript("line one\nline two", 130 + 75)
    events = lifecycle(script(CallKind.INBOUND_ANSWERED, comments=(comment,)), token=TOKEN)
    commented = only(events, "call.commented")
    assert commented.send_at_s == 205
    (posted,) = commented.envelope["data"]["comments"]
    assert posted["content"] == "line one\nline two" and posted["posted_at"] == START + 205
    assert only(events, "call.ended").envelope["data"]["comments"] == []


def test_transfer_sets_transferred_by_and_to_from_the_transfer_on():
    events = lifecycle(script(CallKind.TRANSFERRED), token=TOKEN)
    assert only(events, "call.answered").envelope["data"]["transferred_to"] is None
    data = only(events, "call.transferred").envelope["data"]
    assert data["transferred_by"]["id"] == AGENTS[0].aircall_id
    assert data["transferred_to"]["id"] == AGENTS[1].aircall_id


def test_events_are_ordered_and_no_two_of_a_kind_share_a_timestamp():
    rung = (AGENTS[0], AGENTS[1], AGENTS[2])
    events = lifecycle(script(CallKind.INBOUND_ANSWERED, ring_s=2, rung=rung), token=TOKEN)
    assert [event.send_at_s for event in events] == sorted(event.send_at_s for event in events)
    keys = [(event.envelope["event"], event.envelope["timestamp"]) for event in events]
    assert len(keys) == len(set(keys))
    assert all(event.envelope["timestamp"] == START + event.send_at_s for event in events)
    assert {event.envelope["token"] for event in events} == {TOKEN}


def test_outbound_unanswered_call_keeps_its_user_and_has_no_missed_reason():
    data = call_at(script(CallKind.OUTBOUND_UNANSWERED), 100)
    assert data["user"]["id"] == AGENTS[0].aircall_id
    assert data["status"] == "done" and data["missed_call_reason"] is None and data["answered_at"] is None


def test_a_script_that_cannot_happen_is_refused():
    with pytest.raises(ValueError, match="transfer_to"):
        script(CallKind.TRANSFERRED, transfer_to=None)


class _Caller:
    def __init__(self, raw_digits: str, expected: tuple[tuple[str, int], ...], kind: str = "candidate") -> None:
        self.raw_digits = raw_digits
        self.expected = expected
        self.kind = kind


CALLERS = [
    _Caller("+1 415-555-0100", (("Candidate", 1),)),
    _Caller("+1 415-555-0101", (("Candidate", 2), ("ClientContact", 3))),
    _Caller("+44 20 7946 0001", ()),
]


def test_the_call_mix_is_mostly_known_callers_with_some_unknown_and_anonymous():
    rng = random.Random(5)
    picks = [pick_caller(rng, CALLERS) for _ in range(2000)]
    known = sum(p in ("+1 415-555-0100", "+1 415-555-0101") for p in picks) / len(picks)
    assert 0.65 < known < 0.75
    assert 0.02 < picks.count(ANONYMOUS) / len(picks) < 0.08
    assert picks.count("+1 415-555-0101") > 0 and picks.count("+44 20 7946 0001") > 0


def test_one_call_in_ten_is_from_a_caller_abroad_whose_record_holds_the_national_form():
    abroad = _Caller("+33 1 42 68 53 00", (("Candidate", 4),), kind="national_fr")
    at_home = [_Caller(f"+1 415-555-01{index:02d}", (("Candidate", 10 + index),)) for index in range(20)]
    rng = random.Random(5)
    picks = [pick_caller(rng, [*CALLERS, *at_home, abroad]) for _ in range(2000)]
    # 10 % from abroad, plus its share of the other known calls (1 in 23 of 50 %)
    assert 0.09 < picks.count(abroad.raw_digits) / len(picks) < 0.16


def test_planned_calls_are_seeded_valid_and_comment_60_to_90_s_after_hang_up():
    first = plan_calls(200, seed=3, callers=CALLERS, started_at=START)
    assert first == plan_calls(200, seed=3, callers=CALLERS, started_at=START)
    assert len({s.call_id for s in first}) == 200
    assert {s.kind for s in first} == set(CallKind)
    for planned in first:
        for comment in planned.comments:
            assert 60 <= comment.at_s - planned.hangup_s <= 90
        if planned.raw_digits == ANONYMOUS:
            assert planned.direction == "inbound"
        lifecycle(planned, token=TOKEN)


def test_the_mix_sometimes_has_a_second_agent_call_a_number_while_the_first_call_is_on():
    # many distinct numbers, so that a number coming back at once is the colleague's call, not chance
    many = [_Caller(f"+1 415-555-{n:04d}", (("Candidate", n),)) for n in range(5000)]
    planned = plan_calls(400, seed=3, callers=many, started_at=START)
    overlapping = [
        (first, second) for first, second in zip(planned, planned[1:], strict=False)
        if second.raw_digits == first.raw_digits != ANONYMOUS and second.agent != first.agent
        and first.started_at <= second.started_at < first.started_at + first.hangup_s
    ]
    assert 5 <= len(overlapping) <= 60
    assert all(second.direction == "outbound" for _, second in overlapping)
