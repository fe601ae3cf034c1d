from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from insight.domain.matching import PHONE_FIELDS, build_search_query
from insight.domain.phones import (
    PhoneError,
    display,
    holds_number,
    index_keys,
    national_keys,
    normalize,
    parse_caller,
    search_variants,
)
from shared.logs import mask_phone

US, UK, FR, DE = "+14155550123", "+442079460958", "+33142685300", "+49301234567"
UK_MOBILE, FR_MOBILE = "+447700900123", "+33612345678"

# (stored text, tenant's default region, E.164 it is)
STORED_FORMATS: list[tuple[str, str, str]] = [
    ("(415) 555-0123", "US", US),
    ("415.555.0123", "US", US),
    ("415-555-0123", "US", US),
    ("415 555 0123", "US", US),
    ("4155550123", "US", US),
    ("1-415-555-0123", "US", US),
    ("1 (415) 555-0123", "US", US),
    ("14155550123", "US", US),
    ("+14155550123", "US", US),
    ("+1 415 555 0123 x12", "US", US),
    ("(415) 555-0123 ext. 4", "US", US),
    ("4155550123x7", "US", US),
    ("+1 (415) 555-0123", "GB", US),
    ("+1.415.555.0123", "GB", US),
    ("001 415 555 0123", "DE", US),
    ("020 7946 0958", "GB", UK),
    ("02079460958", "GB", UK),
    ("020-7946-0958", "GB", UK),
    ("0207 946 0958", "GB", UK),
    ("+44 20 7946 0958", "US", UK),
    ("+442079460958", "US", UK),
    ("+44 (0)20 7946 0958", "US", UK),
    ("+44 (0) 20 7946 0958", "DE", UK),
    ("+44 207 946 0958", "US", UK),
    ("0044 20 7946 0958", "US", UK),
    ("0044 20 7946 0958", "GB", UK),
    ("0044 (0)20 7946 0958", "US", UK),
    ("00442079460958", "FR", UK),
    ("011 44 20 7946 0958", "US", UK),
    ("011 44 20 7946 0958", "FR", UK),
    ("Tel: 0044 20 7946 0958", "US", UK),
    ("07700 900123", "GB", UK_MOBILE),
    ("07400 123 456", "GB", "+447400123456"),
    ("+44 7700 900123", "US", UK_MOBILE),
    ("+44 (0)7700 900123", "FR", UK_MOBILE),
    ("44 7700 900123", "GB", UK_MOBILE),
    ("01 42 68 53 00", "FR", FR),
    ("01.42.68.53.00", "FR", FR),
    ("0142685300", "FR", FR),
    ("+33 1 42 68 53 00", "US", FR),
    ("+33 (0)1 42 68 53 00", "GB", FR),
    ("0033 1 42 68 53 00", "US", FR),
    ("06.12.34.56.78", "FR", FR_MOBILE),
    ("+33 6 12 34 56 78", "DE", FR_MOBILE),
    ("030 1234567", "DE", DE),
    ("030/1234567", "DE", DE),
    ("030 123 45 67", "DE", DE),
    ("+49 30 1234567", "US", DE),
    ("+49 (0)30 1234567", "GB", DE),
    ("0049 30 1234567", "US", DE),
]


def _local_finder(query: str, record: Mapping[str, Any]) -> bool:
    # Stand-in for sandbox.lucene when it is not built: only the phone group of our own query
    # shape, with the harsh tokenisation (split on non-digits; a term equals a token, a phrase
    # equals consecutive tokens).
    group = query[query.index("(") + 1 : query.index(") AND ")]
    for field, value in re.findall(r'(\w+):("[^"]*"|\d+)', group):
        tokens = re.findall(r"\d+", str(record.get(field) or ""))
        wanted = re.findall(r"\d+", value)
        if any(tokens[at : at + len(wanted)] == wanted for at in range(len(tokens) - len(wanted) + 1)):
            return True
    return False


def _sandbox_finder() -> Callable[[str, Mapping[str, Any]], bool] | None:
    try:
        from sandbox.lucene import compile_query, default_analyzer

        analyzer = default_analyzer(frozenset(field for fields in PHONE_FIELDS.values() for field in fields))
        compile_query("phone:1", analyzer)
    except (ImportError, NotImplementedError):
        return None
    return lambda query, record: compile_query(query, analyzer)(record)


FINDERS: dict[str, Callable[[str, Mapping[str, Any]], bool] | None] = {
    "local-tokeniser": _local_finder,
    "sandbox-lucene": _sandbox_finder(),
}


def _finder(name: str) -> Callable[[str, Mapping[str, Any]], bool]:
    finder = FINDERS[name]
    if finder is None:
        pytest.skip("sandbox.lucene is not built yet")
    return finder


@pytest.mark.parametrize(("stored", "region", "e164"), STORED_FORMATS)
def test_every_stored_format_normalises_to_its_e164(stored: str, region: str, e164: str) -> None:
    assert normalize(stored, region) == e164


@pytest.mark.parametrize("finder_name", sorted(FINDERS))
@pytest.mark.parametrize(("stored", "region", "e164"), STORED_FORMATS)
def test_the_callers_query_finds_every_stored_format_under_harsh_tokenisation(
    stored: str, region: str, e164: str, finder_name: str
) -> None:
    finds = _finder(finder_name)
    for entity, fields in PHONE_FIELDS.items():
        query = build_search_query(entity, e164, ["Archive", "Archived"])
        for field in fields:
            record = {"id": 1, "isDeleted": False, "status": "Active", field: stored}
            assert finds(query, record), (entity, field, stored)


def test_a_bare_digit_term_alone_would_miss_a_formatted_number() -> None:
    # the harsh case the variants exist for
    assert not _local_finder("(phone:4155550123) AND isDeleted:false", {"phone": "(415) 555-0123"})


@pytest.mark.parametrize("finder_name", sorted(FINDERS))
def test_the_query_does_not_find_other_numbers_sharing_a_trailing_group(finder_name: str) -> None:
    finds = _finder(finder_name)
    query = build_search_query("Candidate", US, [])
    for stored in ("(212) 555-0123", "415 555 0124", "555-0123", "4155550124", "415 555 01 23"):
        assert not finds(query, {"id": 1, "isDeleted": False, "phone": stored}), stored


@pytest.mark.parametrize(
    ("stored", "region"),
    [
        ("020 7946 0958", "US"),  # a UK national number on a US tenant cannot be known
        ("07700 900123", "US"),
        ("01 42 68 53 00", "US"),
        ("030 1234567", "US"),
        ("(415) 555-0123", "GB"),  # and a US one on a UK tenant
        ("415 555 0123", "FR"),
    ],
)
def test_a_national_number_of_another_country_is_not_guessed(stored: str, region: str) -> None:
    assert normalize(stored, region) is None


def test_the_same_national_digits_in_another_country_are_another_number() -> None:
    assert normalize("(207) 946-0958", "US") == "+12079460958"
    assert normalize("+1 207 946 0958", "GB") != UK
    assert normalize("2079460958", "US") != UK


@pytest.mark.parametrize("raw", ["", "   ", "anonymous", "Anonymous", "n/a", "unknown", "+", "12", "call me"])
def test_unusable_values_normalise_to_none(raw: str) -> None:
    assert normalize(raw, "US") is None


def test_a_uk_local_number_starting_011_is_not_read_as_an_international_prefix() -> None:
    assert normalize("0117 496 0000", "GB") == "+441174960000"


def test_extensions_are_dropped() -> None:
    assert normalize("+44 20 7946 0958 ext 221", "US") == UK
    assert normalize("(415) 555-0123 #9", "US") == US


def test_parse_caller_returns_e164_for_any_format() -> None:
    assert parse_caller(" 0044 20 7946 0958 ", "US") == UK
    assert parse_caller("415.555.0123", "US") == US


@pytest.mark.parametrize(
    ("raw", "says"),
    [("", "empty"), ("anonymous", "withheld"), ("hello", "not a phone number"), ("030 1234567", "read as US")],
)
def test_parse_caller_raises_a_phone_error_saying_why(raw: str, says: str) -> None:
    with pytest.raises(PhoneError, match=says):
        parse_caller(raw, "US")


def test_phone_error_is_a_value_error() -> None:
    assert issubclass(PhoneError, ValueError)


def test_variants_are_whole_numbers_as_terms_or_quoted_digit_phrases() -> None:
    variants = search_variants(UK)
    assert {"2079460958", "02079460958", "442079460958", '"020 7946 0958"', '"20 7946 0958"'} <= set(variants)
    assert all(re.fullmatch(r'\d+|"\d+(?: \d+)+"', variant) for variant in variants)
    assert search_variants(US) == ["4155550123", "14155550123", "0014155550123", '"415 555 0123"']


def test_variants_leave_out_clauses_another_one_covers() -> None:
    # "8 495 123 45 67" is found by the phrase without the separate trunk token
    assert '"8 495 123 45 67"' not in search_variants("+74951234567")
    assert '"495 123 45 67"' in search_variants("+74951234567")


def test_mask_keeps_country_code_and_last_four_digits() -> None:
    assert mask_phone(UK) == "+44******0958"
    assert mask_phone(US) == "+1******0123"
    assert mask_phone("12345678") == "+****5678"


def test_display_is_the_international_form() -> None:
    assert display(UK) == "+44 20 7946 0958"
    assert display("garbage") == "garbage"


def test_a_merely_possible_national_reading_yields_to_a_foreign_00_prefix() -> None:
    # Australia dials out with 0011, yet "0061 …" is Sydney written the way most of the world does
    assert normalize("0061 2 1234 5678", "AU") == "+61212345678"
    assert normalize("0117 496 0000", "GB") == "+441174960000"


def test_a_national_number_of_another_country_is_read_in_the_callers_country() -> None:
    assert holds_number("020 7946 0958", UK, "US")
    assert holds_number("01 42 68 53 00", FR, "GB")
    assert not holds_number("020 7946 0958", "+12079460958", "US")
    assert not holds_number("(207) 946-0958", UK, "US")


def test_a_value_the_tenant_cannot_read_is_keyed_by_its_digits_as_typed() -> None:
    assert index_keys("020 7946 0958 ext 12", "US")[1] == "02079460958"
    assert index_keys("020 7946 0958", "US")[1] in national_keys(UK)
    assert index_keys("44 20 7946 0958", "US")[1] in national_keys(UK)
    assert index_keys("01.42.68.53.00", "US")[1] in national_keys(FR)
    assert index_keys("(415) 555-0123", "GB")[1] in national_keys(US)
    assert national_keys(UK) == ("2079460958", "02079460958", "442079460958")
    # on a US tenant "011" is the way out, yet "0117 496 0490" is Bristol: a possible +7 is no valid one
    assert index_keys("0117 496 0490", "US")[1] in national_keys("+441174960490")
    assert index_keys("0117 496 0490", "US") == ("+74960490", "01174960490")
    assert index_keys("+44 (0)20 7946 0958 x12", "US") == (UK, None)
    assert index_keys("1-800-FLOWERS", "US") == (None, None)


@pytest.mark.parametrize(
    ("value", "region"),
    [("020 7946 0958", "GB"), ("(415) 555-0123", "US"), ("+44 20 7946 0958", "US"), ("0044 20 7946 0958", "FR"),
     ("not a number", "US"), ("12 34", "US"), ("", "US")],
)
def test_a_value_the_tenant_reads_or_that_is_no_number_has_no_national_key(value: str, region: str) -> None:
    assert index_keys(value, region)[1] is None


def test_a_grouping_phonenumbers_cannot_vouch_for_is_left_to_verification_and_the_index() -> None:
    # Ofcom's fictional 07700 900xxx range is no valid number, so its matcher judges no grouping of it
    assert '"07700 900 123"' not in search_variants(UK_MOBILE)
    assert '"07400 123 456"' in search_variants("+447400123456")
