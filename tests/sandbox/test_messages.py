from __future__ import annotations

import pytest

from sandbox.messages import DEMO_EVENING, Text, conversation, demo_conversations, message_envelope
from sandbox.people import AGENTS, LINES


def test_the_demo_conversations_cross_midnight_utc_and_include_an_unknown_number() -> None:
    envelopes = demo_conversations(["+1 415-555-0100", "+1 415-555-0101"], "+44 7700 900123", token="t")

    days = {str(envelope["data"]["created_at"])[:10] for envelope in envelopes
            if envelope["data"]["external_number"] == "+1 415-555-0100"}
    assert days == {"2026-11-25", "2026-11-26"}
    assert any(envelope["data"]["external_number"] == "+44 7700 900123" for envelope in envelopes)
    assert len({envelope["data"]["id"] for envelope in envelopes}) == len(envelopes)
    assert any(isinstance(envelope["data"]["created_at"], int) for envelope in envelopes)


@pytest.mark.parametrize("inbound", [True, False])
def test_a_message_envelope_has_the_documented_shape(inbound: bool) -> None:
    envelope = message_envelope(message_id="m1", line=LINES[0], number="+1 415-555-0100", started_at=DEMO_EVENING,
                                text=Text(0, inbound, "hi", media=("https://media.example.com/x.jpg",)), token="t",
                                agent=AGENTS[0])

    data = envelope["data"]
    assert envelope["event"] == ("message.received" if inbound else "message.sent")
    assert isinstance(data["id"], str) and data["number"]["id"] == LINES[0].id
    assert ("media_details" in data) is inbound and ("media_url" in data) is not inbound
    assert ("user" in data) is not inbound


def test_conversation_ids_differ_between_conversations_of_one_moment() -> None:
    first = conversation("+1", [Text(0, True, "a")], started_at=1, token="t", prefix="a")
    second = conversation("+2", [Text(0, True, "a")], started_at=1, token="t", prefix="b")
    assert first[0]["data"]["id"] != second[0]["data"]["id"]
