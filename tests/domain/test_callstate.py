from __future__ import annotations

import itertools
import random

import pytest

from insight.domain.aircall_events import Envelope, parse_envelope
from insight.domain.callstate import AgentRef, CallState, Comment, reduce_call
from tests.aircall_payloads import (
    ALAN,
    CALL_ID,
    GRACE,
    answered_call,
    call_event,
    comment,
    envelope,
    tag,
    user,
    voicemail_call,
)

GRACE_REF = AgentRef(id=GRACE["id"], name="Grace Hopper", email="grace.hopper@northwind-staffing.com")


def _tag_names(state: CallState) -> tuple[str, ...]:
    return tuple(tag.name for tag in state.tags)


def test_an_answered_call_reduces_to_what_happened() -> None:
    state = reduce_call(answered_call())
    assert state.call_id == CALL_ID
    assert (state.direction, state.call_type) == ("inbound", "inbound")
    assert state.agent == GRACE_REF
    assert (state.number_name, state.number_digits, state.raw_digits) == (
        "London Desk", "+44 20 3966 0100", "+44 330 818 6690")
    assert (state.started_at, state.answered_at, state.ended_at) == (1646391174, 1646391180, 1646391425)
    assert state.talk_time_s == 245
    assert _tag_names(state) == ("Sourcing Call", "BD Call")
    assert state.first_agent_tag == "Sourcing Call"
    assert state.comments == (
        Comment(id=24923492, content="Wants a contract role\nAvailable from March", posted_at=1646391515,
                author=GRACE_REF),
    )
    assert state.asset == f"https://assets.aircall.io/calls/{CALL_ID}/recording"
    assert state.recording is not None and "X-Amz-Expires" in state.recording
    assert state.is_over and state.hung_up
    assert state.missed_call_reason is None and state.transfer is None
    assert state.last_event_timestamp == 1646391515
    assert "call.commented" in state.events_seen and "call.voicemail_left" not in state.events_seen


@pytest.mark.parametrize("events", [answered_call(), voicemail_call()], ids=["answered", "voicemail"])
def test_every_arrival_order_of_a_calls_events_gives_the_same_state(events: list[Envelope]) -> None:
    expected = reduce_call(events)
    for order in itertools.permutations(events):
        assert reduce_call(order) == expected


@pytest.mark.parametrize("events", [answered_call(), voicemail_call()], ids=["answered", "voicemail"])
def test_redelivered_events_change_nothing(events: list[Envelope]) -> None:
    expected = reduce_call(events)
    rng = random.Random(20261125)
    for _ in range(200):
        noisy = events + rng.choices(events, k=rng.randint(1, 12))
        rng.shuffle(noisy)
        assert reduce_call(noisy) == expected


def test_the_first_agent_tag_is_chosen_by_tagged_at_not_array_order() -> None:
    state = reduce_call([envelope("call.tagged", 100, tags=[tag("BD Call", 60), tag("Sourcing Call", 40)])])
    assert state.first_agent_tag == "Sourcing Call"


def test_tag_case_is_preserved_exactly() -> None:
    state = reduce_call([envelope("call.tagged", 100, tags=[tag("sourcing call", 40), tag("BD Call", 60)])])
    assert state.first_agent_tag == "sourcing call"
    assert _tag_names(state) == ("sourcing call", "BD Call")


def test_system_tags_never_count_as_the_agents_first_tag() -> None:
    system = tag("Callback Request", 10, by={})
    no_tagger = {k: v for k, v in tag("Priority", 11).items() if k != "tagged_by"}
    state = reduce_call([envelope("call.tagged", 100, tags=[system, no_tagger, tag("Reference Check", 50)])])
    assert state.first_agent_tag == "Reference Check"
    assert [t.name for t in state.agent_tags] == ["Reference Check"]
    assert set(_tag_names(state)) == {"Callback Request", "Priority", "Reference Check"}


def test_only_system_tags_means_no_first_agent_tag() -> None:
    state = reduce_call([envelope("call.tagged", 100, tags=[tag("Callback Request", 10, by={})])])
    assert state.first_agent_tag is None


def test_a_removed_first_tag_hands_over_to_the_next_one() -> None:
    first, second = tag("Sourcing Call", 40), tag("BD Call", 60)
    events = [
        envelope("call.tagged", 60, tags=[first, second]),
        envelope("call.untagged", 70, tags=[second]),
    ]
    assert reduce_call(reversed(events)).first_agent_tag == "BD Call"


def test_the_latest_tags_payload_wins_even_when_it_arrives_first_and_is_empty() -> None:
    events = [
        envelope("call.untagged", 90, tags=[]),
        envelope("call.tagged", 60, tags=[tag("BD Call", 60)]),
    ]
    assert reduce_call(events).tags == ()


def test_a_payload_without_tags_says_nothing_about_them() -> None:
    tagged = envelope("call.tagged", 60, tags=[tag("BD Call", 60)])
    payload = call_event("call.commented", 90)
    del payload["data"]["tags"]
    silent = parse_envelope(payload)
    assert reduce_call([tagged, silent]).first_agent_tag == "BD Call"


def test_a_missed_call_has_no_agent_even_though_agents_were_rung() -> None:
    events = [
        envelope("call.created", 10),
        envelope("call.ringing_on_agent", 11, user=user(ALAN)),
        envelope("call.ringing_on_agent", 11, user=user()),
        envelope("call.hungup", 40, status="done", ended_at=40, duration=30, missed_call_reason="short_abandoned"),
        envelope("call.ended", 70, status="done", ended_at=40, duration=30, missed_call_reason="short_abandoned"),
    ]
    state = reduce_call(events)
    assert state.call_type == "missed"
    assert state.agent is None and state.answered_at is None and state.talk_time_s == 0
    assert state.missed_call_reason == "short_abandoned"


def test_a_voicemail_is_a_voicemail_though_inbound_with_a_missed_call_reason() -> None:
    state = reduce_call(voicemail_call())
    assert state.direction == "inbound"
    assert state.missed_call_reason == "agents_did_not_answer"
    assert state.call_type == "voicemail"
    assert state.agent is None
    assert state.asset == f"https://assets.aircall.io/calls/{CALL_ID}/voicemail"
    assert state.comments[0].author is None


def test_voicemail_left_alone_makes_a_voicemail() -> None:
    events = [envelope("call.ended", 70, ended_at=40), envelope("call.voicemail_left", 73, ended_at=40)]
    assert reduce_call(events).call_type == "voicemail"


def test_an_unanswered_outbound_call_stays_outbound_with_its_caller_as_agent() -> None:
    events = [
        envelope("call.created", 10, direction="outbound", user=user()),
        envelope("call.ended", 70, direction="outbound", user=user(), status="done", ended_at=40, duration=30),
    ]
    state = reduce_call(events)
    assert state.call_type == "outbound"
    assert state.agent == GRACE_REF
    assert state.talk_time_s == 0


def test_talk_time_counts_from_answered_at_not_duration() -> None:
    state = reduce_call([envelope("call.ended", 300, started_at=100, answered_at=130, ended_at=250, duration=150,
                                  user=user())])
    assert state.talk_time_s == 120


def test_an_answered_call_without_a_named_agent_falls_back_to_the_only_agent_rung() -> None:
    events = [envelope("call.ringing_on_agent", 11, user=user(ALAN)), envelope("call.answered", 15, answered_at=15)]
    assert reduce_call(events).agent == AgentRef(id=ALAN["id"], name="Alan Turing",
                                                 email="alan.turing@northwind-staffing.com")


def test_hungup_without_ended_is_not_over_yet() -> None:
    state = reduce_call([envelope("call.hungup", 40, status="done", answered_at=20, ended_at=40, user=user())])
    assert state.hung_up and not state.is_over


def test_comments_are_deduplicated_by_id_and_ordered_by_posted_at_then_id() -> None:
    early, late, same_second = comment(9, "first", 100), comment(3, "second", 200), comment(2, "also", 200)
    events = [
        envelope("call.commented", 100, comments=[early]),
        envelope("call.commented", 200, comments=[late, early, same_second]),
    ]
    assert [c.id for c in reduce_call(events).comments] == [9, 2, 3]


def test_transfers_are_reported() -> None:
    state = reduce_call([envelope("call.transferred", 50, transferred_by=user(), transferred_to=user(ALAN))])
    assert state.transfer is not None
    assert state.transfer.by == GRACE_REF and state.transfer.to is not None and state.transfer.to.id == ALAN["id"]
    assert not state.transfer.unsuccessful


def test_reducing_nothing_or_several_calls_is_an_error() -> None:
    with pytest.raises(ValueError):
        reduce_call([])
    with pytest.raises(ValueError, match="several calls"):
        reduce_call([envelope("call.created", 1), envelope("call.created", 1, id=CALL_ID + 1)])
