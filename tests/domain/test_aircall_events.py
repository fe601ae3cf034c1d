from __future__ import annotations

import json
from typing import Any

import pytest

from insight.domain.aircall_events import (
    KNOWN_CALL_EVENTS,
    InvalidPayload,
    NotJSON,
    coerce_int,
    dedupe_key,
    is_call_event,
    load_json,
    parse_envelope,
)
from tests.aircall_payloads import CALL_ID, TOKEN, call_event


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def _invalid_field(payload: Any) -> str:
    with pytest.raises(InvalidPayload) as caught:
        parse_envelope(payload)
    assert caught.value.field in str(caught.value)
    return caught.value.field


def test_a_realistic_call_event_parses_into_an_envelope() -> None:
    envelope = parse_envelope(_body(call_event("call.created", 1646391174)))
    assert (envelope.resource, envelope.event, envelope.timestamp) == ("call", "call.created", 1646391174)
    assert envelope.token == TOKEN
    assert envelope.call_id == CALL_ID
    assert envelope.data["number"]["name"] == "London Desk"


def test_a_body_that_is_not_json_raises_not_json() -> None:
    for body in (b"token=abc&event=call.created", b"{\"event\": ", b"\xff\xfe\x00", b"", b'{"timestamp": NaN}'):
        with pytest.raises(NotJSON):
            parse_envelope(body)


def test_json_that_is_not_an_object_names_the_body() -> None:
    assert _invalid_field(b"[1, 2]") == "body"
    assert _invalid_field(b'"call.created"') == "body"


def test_a_missing_or_empty_event_names_event() -> None:
    payload = call_event("call.created", 1646391174)
    del payload["event"]
    assert _invalid_field(payload) == "event"
    assert _invalid_field({**payload, "event": "  "}) == "event"
    assert _invalid_field({**payload, "event": 42}) == "event"


@pytest.mark.parametrize("data_id", [None, "abc", 0, -7, True, 12.5, {"id": 1}])
def test_a_call_event_without_a_positive_integer_data_id_names_data_id(data_id: Any) -> None:
    payload = call_event("call.ended", 1646391174, id=data_id)
    assert _invalid_field(payload) == "data.id"


def test_a_call_event_missing_data_id_names_data_id_in_the_message() -> None:
    payload = call_event("call.ended", 1646391174)
    del payload["data"]["id"]
    with pytest.raises(InvalidPayload, match=r"^data\.id "):
        parse_envelope(payload)


def test_a_numeric_string_call_id_is_accepted_and_normalised_to_an_int() -> None:
    envelope = parse_envelope(call_event("call.ended", 1646391174, id=str(CALL_ID)))
    assert envelope.call_id == CALL_ID
    assert envelope.data["id"] == CALL_ID


@pytest.mark.parametrize(("timestamp", "expected"), [(1646391174, 1646391174), (1646391174.0, 1646391174),
                                                     ("1646391174", 1646391174)])
def test_int_valued_timestamps_are_accepted(timestamp: Any, expected: int) -> None:
    assert parse_envelope({**call_event("call.created", 0), "timestamp": timestamp}).timestamp == expected


@pytest.mark.parametrize("timestamp", [None, 1646391174.5, "yesterday", True, -1, [1]])
def test_a_timestamp_that_is_not_a_whole_number_of_seconds_names_timestamp(timestamp: Any) -> None:
    assert _invalid_field({**call_event("call.created", 0), "timestamp": timestamp}) == "timestamp"


def test_a_malformed_token_or_missing_data_is_named_and_a_stored_event_parses_without_its_token() -> None:
    payload = call_event("call.created", 1646391174)
    assert parse_envelope({k: v for k, v in payload.items() if k != "token"}).token is None
    assert _invalid_field({**payload, "token": 123}) == "token"
    assert _invalid_field({k: v for k, v in payload.items() if k != "data"}) == "data"
    assert _invalid_field({**payload, "data": [1]}) == "data"


def test_null_user_and_other_nulls_are_normalised_to_absent() -> None:
    payload = call_event("call.hungup", 1646391174, user=None, answered_at=None)
    payload["data"]["number"]["time_zone"] = None
    payload["data"]["teams"] = [None, {"id": 1, "name": None}]
    data = parse_envelope(payload).data
    assert "user" not in data and "answered_at" not in data and "voicemail" not in data
    assert "time_zone" not in data["number"]
    assert data["teams"] == [{"id": 1}]


def test_missing_tags_and_comments_are_fine() -> None:
    payload = call_event("call.created", 1646391174)
    del payload["data"]["tags"], payload["data"]["comments"]
    assert "tags" not in parse_envelope(payload).data


def test_anonymous_raw_digits_are_kept_as_they_are() -> None:
    assert parse_envelope(call_event("call.created", 1, raw_digits="anonymous")).data["raw_digits"] == "anonymous"


def test_unknown_fields_are_ignored_and_kept() -> None:
    payload = {**call_event("call.created", 1646391174), "delivery_attempt": 3}
    payload["data"]["sentiment"] = {"score": 0.4}
    envelope = parse_envelope(payload)
    assert envelope.data["sentiment"] == {"score": 0.4}


def test_unknown_events_parse_without_a_call_id_and_are_not_call_events() -> None:
    envelope = parse_envelope({"resource": "user", "event": "user.created.v2", "timestamp": 5, "token": "t",
                               "data": {"id": "usr_8c1f"}})
    assert envelope.call_id is None
    assert not is_call_event(envelope.event)
    assert dedupe_key(envelope) == "user.created.v2:usr_8c1f:5"


def test_a_future_call_event_family_is_not_held_to_the_call_id_invariant() -> None:
    envelope = parse_envelope({"event": "call.summary_ready", "timestamp": 5, "token": "t", "data": {"call_id": 7}})
    assert envelope.call_id is None
    assert envelope.resource == "call"


def test_every_known_call_event_is_a_call_event() -> None:
    assert len(KNOWN_CALL_EVENTS) == 19
    assert all(is_call_event(event) for event in KNOWN_CALL_EVENTS)
    assert not is_call_event("contact.created")


def test_a_mapping_is_accepted_as_well_as_bytes() -> None:
    payload = call_event("call.answered", 1646391180)
    assert parse_envelope(payload) == parse_envelope(_body(payload)) == parse_envelope(json.dumps(payload))


def test_dedupe_key_is_event_call_id_and_timestamp() -> None:
    first = parse_envelope(call_event("call.tagged", 1646391300))
    redelivered = parse_envelope(call_event("call.tagged", 1646391300, tags=[]))
    later = parse_envelope(call_event("call.tagged", 1646391301))
    assert dedupe_key(first) == f"call.tagged:{CALL_ID}:1646391300"
    assert dedupe_key(redelivered) == dedupe_key(first)
    assert dedupe_key(later) != dedupe_key(first)


def test_the_token_does_not_show_in_the_envelope_repr() -> None:
    assert TOKEN not in repr(parse_envelope(call_event("call.created", 1)))


def test_load_json_lets_the_token_be_read_before_validation() -> None:
    assert load_json(b'{"token": "x", "event": 1}') == {"token": "x", "event": 1}


def test_coerce_int_takes_only_exact_integers() -> None:
    assert [coerce_int(v) for v in (3, 3.0, " 42 ", "-4", "+4", "4_0", "٣", True, None)] == [
        3, 3, 42, -4, None, None, None, None, None]


def test_absurdly_deep_data_is_refused_as_invalid_not_crashing() -> None:
    deep: Any = {}
    for _ in range(5000):
        deep = {"x": deep}
    payload = {**call_event("call.created", 1), "data": {"id": CALL_ID, "nested": deep}}
    assert _invalid_field(payload) == "data"
