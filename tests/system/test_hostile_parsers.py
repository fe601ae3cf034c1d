"""Property-based fuzzing of what parses outside input: the webhook envelope and phone numbers.

Deterministic (`derandomize=True`) and bounded, so the suite is fast and the same on every run.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insight.domain.aircall_events import MAX_INT64, MAX_TIMESTAMP_S, Envelope, InvalidPayload, NotJSON, parse_envelope
from insight.domain.phones import PhoneError, display, normalize, parse_caller, search_variants
from shared.logs import mask_phone

FUZZ = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
REGIONS = st.sampled_from(["US", "GB", "FR", "DE", "AU", "IN", "BR"])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "resource": json_values,
        "event": st.sampled_from(["call.created", "call.ended", "call.tagged", "contact.created", ""]) | json_values,
        "timestamp": st.integers() | st.floats() | st.text(max_size=25) | json_values,
        "token": st.text(max_size=10) | json_values,
        "data": st.dictionaries(
            st.sampled_from(["id", "started_at", "ended_at", "raw_digits", "user", "tags", "number"]) | st.text(),
            json_values | st.integers(min_value=-(2**80), max_value=2**80),
            max_size=6,
        ) | json_values,
    },
)
phone_text = st.text(alphabet="0123456789 +-().x#*/\\\"':;&|!?~^[]{}<>", max_size=30) | st.text(max_size=30)


def _check(envelope: Envelope) -> None:
    assert 0 <= envelope.timestamp <= MAX_TIMESTAMP_S
    assert envelope.call_id is None or 0 < envelope.call_id <= MAX_INT64
    assert not _has_none(envelope.data)


def _has_none(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_none(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_none(item) for item in value)
    return value is None


@FUZZ
@given(body=st.binary(max_size=200) | st.text(max_size=200))
def test_any_bytes_are_an_envelope_or_a_documented_error(body: bytes | str) -> None:
    try:
        _check(parse_envelope(body))
    except (NotJSON, InvalidPayload):
        pass


@FUZZ
@given(document=envelopes | json_values)
def test_any_json_document_is_an_envelope_or_a_documented_error(document: Any) -> None:
    try:
        _check(parse_envelope(json.dumps(document)))
    except (NotJSON, InvalidPayload) as problem:
        if isinstance(problem, InvalidPayload):
            assert problem.field.split(".")[0].split("[")[0] in {"body", "event", "timestamp", "token", "data"}


def test_pathological_nesting_and_constants_are_documented_errors() -> None:
    for body in ("[" * 100_000 + "]" * 100_000, '{"data": ' * 50_000 + "{}" + "}" * 50_000, "NaN", '{"a": Infinity}'):
        try:
            parse_envelope(body)
        except (NotJSON, InvalidPayload):
            continue
        raise AssertionError(f"{body[:20]!r} parsed")


@FUZZ
@given(raw=phone_text, region=REGIONS)
def test_normalize_gives_e164_or_none_and_never_raises(raw: str, region: str) -> None:
    e164 = normalize(raw, region)

    assert e164 is None or E164.match(e164)
    if e164 is not None:
        assert normalize(e164, region) == e164
        assert mask_phone(e164).endswith(e164[-4:])
        assert display(e164).startswith("+")


@FUZZ
@given(raw=phone_text, region=REGIONS)
def test_parse_caller_raises_only_phone_error_and_agrees_with_normalize(raw: str, region: str) -> None:
    try:
        e164 = parse_caller(raw, region)
    except PhoneError as problem:
        assert str(problem)
        assert normalize(raw, region) is None
    else:
        assert E164.match(e164) and normalize(raw, region) == e164


@FUZZ
@given(raw=phone_text, region=REGIONS)
def test_search_variants_are_digits_and_quoted_digit_phrases_only(raw: str, region: str) -> None:
    e164 = normalize(raw, region)
    if e164 is None:
        return
    for variant in search_variants(e164):
        assert re.fullmatch(r'[0-9]+|"[0-9]+(?: [0-9]+)+"', variant), variant
