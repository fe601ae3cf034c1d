from __future__ import annotations

import math
from typing import Any

import pytest

from insight.domain.callstate import CallState, reduce_call
from insight.domain.notes import PersonRef, body_hash, compose_note, format_talk_time, is_shared_number, note_update
from tests.aircall_payloads import CALL_ID, answered_call, comment, envelope, user, voicemail_call

CANDIDATE = PersonRef("Candidate", 42)
CONTACT = PersonRef("ClientContact", 7)
OTHER_CANDIDATE = PersonRef("Candidate", 43)


def _note(state: CallState, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "person": CANDIDATE, "others": [], "author_id": 101, "action": "Sourcing Call", "max_associated": 3,
    }
    return compose_note(state, **{**arguments, **overrides})


def test_the_note_of_an_answered_call_has_exactly_these_fields() -> None:
    body = _note(reduce_call(answered_call()), others=[CONTACT, OTHER_CANDIDATE])
    assert body == {
        "personReference": {"id": 42},
        "commentingPerson": {"id": 101},
        "candidates": [{"id": 43}],
        "clientContacts": [{"id": 7}],
        "action": "Sourcing Call",
        "comments": (
            "<p><b>Inbound call</b> on London Desk (+44 20 3966 0100)<br>From: +44 330 818 6690<br>"
            "Agent: Grace Hopper<br>Talk time: 4 min 05 s</p>\n"
            "<p><b>Grace Hopper:</b> Wants a contract role<br>Available from March</p>\n"
            f'<p>Recording: <a href="https://assets.aircall.io/calls/{CALL_ID}/recording">'
            f"https://assets.aircall.io/calls/{CALL_ID}/recording</a></p>\n"
            f"<p>Aircall call #{CALL_ID}</p>"
        ),
        "dateAdded": 1646391174000,
        "minutesSpent": 5,
        "externalID": f"aircall:{CALL_ID}",
    }


def test_a_voicemail_note_says_voicemail_links_the_voicemail_and_spends_no_minutes() -> None:
    body = _note(reduce_call(voicemail_call()), action=None)
    assert body["comments"].startswith("<p><b>Voicemail</b> on London Desk")
    assert "Reason: agents did not answer" in body["comments"]
    assert f'Voicemail: <a href="https://assets.aircall.io/calls/{CALL_ID}/voicemail">' in body["comments"]
    assert "X-Amz" not in body["comments"]
    assert body["minutesSpent"] == 0
    assert "action" not in body
    assert "Agent:" not in body["comments"]


def test_missed_and_outbound_calls_are_named_for_what_they_were() -> None:
    missed = reduce_call([envelope("call.ended", 70, status="done", ended_at=40)])
    outbound = reduce_call([envelope("call.ended", 70, direction="outbound", user=user(), ended_at=40,
                                     raw_digits="anonymous")])
    assert _note(missed)["comments"].startswith("<p><b>Missed call</b>")
    outbound_comments = _note(outbound)["comments"]
    assert outbound_comments.startswith("<p><b>Outbound call</b>")
    assert "To: anonymous" in outbound_comments and "Not answered" in outbound_comments


def test_every_value_from_aircall_is_html_escaped() -> None:
    hostile = '<img src=x onerror="alert(1)">'
    state = reduce_call([envelope(
        "call.commented", 500, started_at=100, answered_at=110, ended_at=400, raw_digits="<b>+1</b>",
        number={"name": hostile, "digits": "&<>"}, user=user(name="Eve <script>"),
        comments=[comment(1, "</p><script>steal()</script>\nline 2 & more", 450, posted_by=user(name="M&M"))],
        asset='https://assets.aircall.io/calls/1/recording?a="onmouseover=x',
    )])
    comments = _note(state)["comments"]
    assert "<script>" not in comments and "<img" not in comments and "<b>+1" not in comments
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in comments
    assert "&lt;/p&gt;&lt;script&gt;steal()&lt;/script&gt;<br>line 2 &amp; more" in comments
    assert "<b>M&amp;M:</b>" in comments and "Agent: Eve &lt;script&gt;" in comments
    assert 'href="https://assets.aircall.io/calls/1/recording?a=&quot;onmouseover=x"' in comments


def test_bidi_control_characters_from_aircall_never_reach_the_note() -> None:
    controls = "\u202e\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u200e\u200f\u061c"
    state = reduce_call([envelope(
        "call.commented", 500, started_at=100, answered_at=110, ended_at=400, raw_digits="+1 415\u202e555 0100",
        number={"name": "Sales\u202eenil", "digits": "+1"}, user=user(name="Ada\u2066 Lovelace\u2069"),
        comments=[comment(1, "call back \u202etomorrow\u202c please", 450, posted_by=user(name="M\u200fM"))],
    )])
    comments = _note(state)["comments"]
    assert not any(control in comments for control in controls)
    assert "Salesenil" in comments and "call back tomorrow please" in comments and "Ada Lovelace" in comments


@pytest.mark.parametrize("asset", ["javascript:alert(1)", "data:text/html,hi", "//assets.aircall.io/x", "ftp://x/y"])
def test_only_http_links_are_linked(asset: str) -> None:
    state = reduce_call([envelope("call.ended", 70, asset=asset, ended_at=40)])
    assert "href" not in _note(state)["comments"]


@pytest.mark.parametrize(("talk_s", "minutes"), [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (245, 5), (3600, 60)])
def test_minutes_spent_is_talk_time_rounded_up(talk_s: int, minutes: int) -> None:
    state = reduce_call([envelope("call.ended", 9000, started_at=900, answered_at=1000, ended_at=1000 + talk_s,
                                  duration=100 + talk_s, user=user())])
    body = _note(state)
    assert body["minutesSpent"] == minutes == math.ceil(talk_s / 60)
    assert isinstance(body["minutesSpent"], int)


def test_talk_time_reads_like_a_person_wrote_it() -> None:
    assert [format_talk_time(s) for s in (0, 45, 245, 3725)] == ["0 s", "45 s", "4 min 05 s", "1 h 02 min 05 s"]


def test_the_person_is_never_listed_again_among_the_associations() -> None:
    body = _note(reduce_call(answered_call()), others=[CANDIDATE, OTHER_CANDIDATE, OTHER_CANDIDATE])
    assert body["candidates"] == [{"id": 43}]
    assert "clientContacts" not in body
    contact_body = _note(reduce_call(answered_call()), person=CONTACT, others=[CONTACT, CANDIDATE])
    assert contact_body["personReference"] == {"id": 7}
    assert contact_body["candidates"] == [{"id": 42}] and "clientContacts" not in contact_body


def test_more_matches_than_max_associated_go_on_the_primary_only() -> None:
    others = [CONTACT, OTHER_CANDIDATE, PersonRef("ClientContact", 8)]
    body = _note(reduce_call(answered_call()), others=others, max_associated=3)
    assert "candidates" not in body and "clientContacts" not in body
    assert body["personReference"] == {"id": 42}
    assert "candidates" in _note(reduce_call(answered_call()), others=others, max_associated=4)


def test_a_number_is_shared_once_more_records_hold_it_than_max_associated() -> None:
    assert [is_shared_number(count, 3) for count in (1, 3, 4, 50)] == [False, False, True, True]


def test_without_an_author_the_note_carries_no_commenting_person_and_bullhorn_picks_the_api_user() -> None:
    body = _note(reduce_call(answered_call()), author_id=None)
    assert "commentingPerson" not in body
    assert body == {key: value for key, value in _note(reduce_call(answered_call())).items()
                    if key != "commentingPerson"}


def test_an_action_longer_than_thirty_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="30"):
        _note(reduce_call(answered_call()), action="x" * 31)


def test_the_external_id_is_the_aircall_call_id_within_fifty_characters() -> None:
    body = _note(reduce_call(answered_call()))
    assert body["externalID"] == f"aircall:{CALL_ID}" and len(body["externalID"]) <= 50


def test_note_update_sends_only_the_changed_writable_fields() -> None:
    before = _note(reduce_call(answered_call()[:-1]), others=[CONTACT])
    after = _note(reduce_call(answered_call()), others=[CONTACT, OTHER_CANDIDATE], author_id=102)
    assert note_update(before, after) == {"comments": after["comments"], "commentingPerson": {"id": 102}}


def test_note_update_is_empty_when_nothing_changed() -> None:
    body = _note(reduce_call(answered_call()))
    assert note_update(body, dict(body)) == {}


def test_note_update_never_resends_associations_or_the_external_id() -> None:
    before = _note(reduce_call(answered_call()))
    after = {**before, "personReference": {"id": 9}, "candidates": [{"id": 5}], "externalID": "aircall:1"}
    assert note_update(before, after) == {}


def test_note_update_clears_an_action_whose_tag_was_removed() -> None:
    before = _note(reduce_call(answered_call()))
    after = _note(reduce_call(answered_call()), action=None)
    assert note_update(before, after) == {"action": None}
    assert note_update(before, {**before, "action": "BD Call"}) == {"action": "BD Call"}


def test_body_hash_is_stable_across_key_order_and_changes_with_content() -> None:
    body = _note(reduce_call(answered_call()))
    reordered = dict(reversed(list(body.items())))
    assert body_hash(body) == body_hash(reordered)
    assert len(body_hash(body)) == 64
    assert body_hash({**body, "minutesSpent": 6}) != body_hash(body)
