from __future__ import annotations

from datetime import UTC, datetime

import pytest

from insight.domain.aircall_events import Envelope
from insight.domain.call_summary import EVENT_FIELDS, call_summary, event_summary
from insight.domain.callstate import reduce_call
from tests.aircall_payloads import ALAN, GRACE, answered_call, envelope, user, voicemail_call


@pytest.mark.parametrize("events", [answered_call(), voicemail_call()], ids=["answered", "voicemail"])
def test_each_event_summarised_alone_never_contradicts_the_summary_of_the_whole_call(events: list[Envelope]) -> None:
    whole = call_summary(reduce_call(events))

    for event in events:
        alone = event_summary(event)
        assert list(alone) == list(EVENT_FIELDS)
        told = {name: value for name, value in alone.items() if value is not None}
        assert told == {name: whole[name] for name in told}, event.event


def test_the_agent_of_an_answered_call_is_who_answered_not_who_was_only_rung() -> None:
    whole = call_summary(reduce_call(answered_call()))
    rung = event_summary(envelope("call.ringing_on_agent", 1646391175, user=user(ALAN)))

    assert (whole["agent_id"], whole["agent_email"]) == (GRACE["id"], GRACE["email"])
    assert (rung["agent_id"], rung["agent_email"]) == (None, None)


def test_a_ringing_event_tells_the_caller_line_and_start_but_no_agent_or_call_type() -> None:
    alone = event_summary(envelope("call.created", 1646391174))

    assert alone == {
        "direction": "inbound", "raw_digits": "+44 330 818 6690",
        "started_at": datetime(2022, 3, 4, 10, 52, 54, tzinfo=UTC), "number_name": "London Desk",
        "agent_email": None, "agent_id": None,
    }


def test_an_outbound_call_names_its_caller_as_the_agent_from_its_first_event() -> None:
    alone = event_summary(envelope("call.created", 1646391174, direction="outbound", user=user()))

    assert (alone["agent_id"], alone["agent_email"]) == (GRACE["id"], GRACE["email"])


def test_texts_longer_than_their_columns_are_cut_to_fit() -> None:
    long_line = {"id": 1, "name": "D" * 250, "digits": "+44 20 3966 0100"}
    summary = call_summary(reduce_call([envelope("call.answered", 1646391180, number=long_line, answered_at=1646391180,
                                                 user=user(email="a" * 400))]))

    assert summary["number_name"] == "D" * 200 and summary["agent_email"] == "a" * 320
