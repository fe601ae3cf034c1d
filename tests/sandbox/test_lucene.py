from __future__ import annotations

from typing import Any

import pytest

from sandbox.lucene import LuceneSyntaxError, analyze_record, compile_query, default_analyzer

PHONES = frozenset({"phone", "mobile", "workPhone", "phone2", "phone3"})
ANALYZER = default_analyzer(PHONES)

ADA: dict[str, Any] = {
    "id": 42,
    "firstName": "Ada",
    "lastName": "Lovelace",
    "name": "Ada Lovelace",
    "phone": "(415) 555-0123",
    "mobile": "+1 415.555.0199 x12",
    "workPhone": None,
    "status": "New Lead",
    "isDeleted": False,
    "dateAdded": 1_790_000_000_000,
    "owner": {"id": 101, "firstName": "Grace", "lastName": "Hopper"},
    "clientCorporation": {"id": 301, "name": "Analytical Engines Ltd"},
}


def matches(query: str, record: dict[str, Any] = ADA) -> bool:
    compiled = compile_query(query, ANALYZER)
    on_record, on_document = compiled(record), compiled.matches_document(analyze_record(record, ANALYZER))
    assert on_record == on_document, "the record and the pre-analysed document must agree"
    return on_record


def test_phone_values_are_tokenised_on_non_digits() -> None:
    assert ANALYZER("phone", "(415) 555-0123") == ["415", "555", "0123"]
    assert ANALYZER("mobile", "+1 415.555.0123 x12") == ["1", "415", "555", "0123", "12"]
    assert ANALYZER("phone", "+44 (0)20 7946 0958") == ["44", "0", "20", "7946", "0958"]


def test_text_is_lowercased_and_split_on_non_alphanumerics() -> None:
    assert ANALYZER("name", "Jean-Luc O'Brien") == ["jean", "luc", "o", "brien"]
    assert ANALYZER("email", "Ada.Lovelace@Example.com") == ["ada", "lovelace", "example", "com"]


def test_booleans_index_as_both_spellings_and_ints_as_decimals() -> None:
    assert ANALYZER("isDeleted", True) == ["true", "1"]
    assert ANALYZER("isDeleted", False) == ["false", "0"]
    assert ANALYZER("id", 42) == ["42"]
    assert ANALYZER("phone", None) == []


def test_nested_associations_are_indexed_under_dotted_names() -> None:
    document = analyze_record(ADA, ANALYZER)
    assert document["owner.id"] == ("101",)
    assert document["clientCorporation.name"] == ("analytical", "engines", "ltd")
    assert matches("owner.id:101") and matches("clientCorporation.id:301")
    assert not matches("owner.id:102")


def test_phone_term_with_all_digits_does_not_match_a_number_stored_with_separators() -> None:
    assert not matches("phone:4155550123")


def test_phone_phrase_of_the_stored_groups_matches() -> None:
    assert matches('phone:"415 555 0123"')
    assert not matches('phone:"555 415 0123"')


def test_one_group_of_a_stored_phone_matches_on_its_own() -> None:
    assert matches("phone:0123")
    assert matches("mobile:12")


def test_phone_term_with_separators_is_treated_as_a_phrase_of_its_groups() -> None:
    assert matches("phone:415-555-0123")
    assert not matches("phone:415-0123")


def test_query_terms_go_through_the_field_analyzer_so_an_escaped_plus_disappears() -> None:
    record = {"phone": "+14155550123"}
    assert matches(r"phone:\+14155550123", record)
    assert matches('phone:"+1 (415) 555-0123"', {"phone": "1-415-555-0123"})


def test_unescaped_plus_after_a_colon_is_a_syntax_error_as_in_lucene() -> None:
    with pytest.raises(LuceneSyntaxError, match="'\\+'"):
        compile_query("phone:+14155550123", ANALYZER)


def test_is_deleted_matches_true_false_and_one_zero() -> None:
    assert matches("isDeleted:false") and matches("isDeleted:0")
    assert not matches("isDeleted:true") and not matches("isDeleted:1")


def test_ringcentral_query_shape_requires_the_group_and_excludes_the_status() -> None:
    query = '(phone:0123 OR mobile:0123 OR phone2:0123 OR phone3:0123) AND isDeleted:false NOT status:"Archive"'
    assert matches(query)
    assert not matches(query, {**ADA, "status": "Archive"})
    assert not matches(query, {**ADA, "isDeleted": True})
    assert not matches(query, {**ADA, "phone": "(415) 555-0124"})


def test_archive_phrase_does_not_exclude_archived() -> None:
    assert matches('isDeleted:false NOT status:"Archive"', {**ADA, "status": "Archived"})


def test_default_operator_is_or() -> None:
    assert matches("firstName:ada firstName:bob")
    assert not matches("firstName:bob firstName:carl")


def test_and_binds_its_neighbours_as_in_lucene_classic() -> None:
    # a OR b AND c is "a +b +c" in Lucene classic: the AND makes b required as well
    assert not matches("firstName:ada OR firstName:bob AND lastName:lovelace")
    assert matches("firstName:bob OR firstName:ada AND lastName:lovelace")


def test_symbol_operators_and_prefixes_behave_like_words() -> None:
    assert matches("firstName:ada && !status:archive")
    assert not matches("firstName:ada && !lastName:lovelace")
    assert matches("firstName:ada || firstName:bob")
    assert matches("+firstName:ada -status:archive")
    assert not matches("+firstName:ada -status:lead")
    assert matches("+firstName:ada firstName:nobody")


def test_a_query_of_only_negative_clauses_matches_nothing() -> None:
    assert not matches("-status:archive")
    assert not matches("NOT status:archive")
    assert not matches("firstName:ada AND (-status:archive)")


def test_field_grouping_applies_the_field_to_every_term() -> None:
    assert matches("lastName:(smith OR lovelace)")
    assert matches("name:(+ada +lovelace)")
    assert not matches("name:(+ada +smith)")


def test_nested_parentheses_group_clauses() -> None:
    assert matches("((firstName:ada AND lastName:lovelace) OR firstName:bob) AND isDeleted:false")


def test_numeric_ranges_compare_numbers_for_id_paging() -> None:
    assert matches("id:[1 TO 100]") and matches("id:[42 TO 42]")
    assert not matches("id:{42 TO 100]") and not matches("id:[1 TO 42}")
    assert matches("id:[9 TO 100]"), "numeric, so 42 is above 9 although '42' < '9' as text"
    assert matches("id:[* TO 50]") and matches("dateAdded:[1789999999999 TO *]")


def test_text_ranges_compare_lowercased_terms() -> None:
    assert matches("lastName:[a TO m]")
    assert not matches("lastName:[m TO z]")


def test_trailing_wildcard_matches_a_token_prefix() -> None:
    assert matches("lastName:love*") and matches("phone:41*")
    assert not matches("lastName:lace*")
    assert matches("firstName:a?a")
    assert matches("workPhone:*") is False and matches("phone:*")


def test_leading_wildcard_is_refused_as_in_lucene() -> None:
    with pytest.raises(LuceneSyntaxError, match="first character"):
        compile_query("lastName:*lace", ANALYZER)


def test_match_all_and_boost() -> None:
    assert matches("*:*")
    assert matches("firstName:ada^2 OR firstName:bob")


def test_escaped_specials_are_literal_term_characters() -> None:
    record = {"status": "a:b", "name": "what?"}
    assert matches(r"status:a\:b", record)
    assert matches(r"name:what\?", record)
    assert matches(r'name:"what\"s"', {"name": 'what"s'})


def test_terms_the_analyzer_drops_vanish_like_in_lucene() -> None:
    assert matches("phone:abc AND firstName:ada")
    assert not matches("phone:abc")


def test_unqualified_terms_search_every_field() -> None:
    assert matches("lovelace") and matches('"analytical engines"')
    assert not matches("babbage")


def test_a_phrase_does_not_span_two_values_of_a_multi_valued_field() -> None:
    record = {"tags": ["red apple", "green pear"]}
    assert matches('tags:"green pear"', record)
    assert not matches('tags:"apple green"', record)


def test_fields_lists_every_explicit_field_for_validation() -> None:
    compiled = compile_query('(phone:1 OR owner.id:2) AND NOT status:"x"', ANALYZER)
    assert compiled.fields == {"phone", "owner.id", "status"}


def test_keywords_must_be_uppercase_to_be_operators() -> None:
    assert not matches("firstName:bob and")
    assert matches("firstName:ada or")


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("phone:(415", "end of query"),
        ("AND firstName:ada", "'AND'"),
        ("firstName:ada AND", "end of query"),
        ('name:"ada', "unterminated quoted phrase"),
        ("id:[1 TO", "range"),
        ("name:ada~2", "not supported"),
        ("name:ada\\", "backslash"),
        ("name:ada)", "'\\)'"),
        ("id:[1 5]", "range"),
        ("name:/ada/", "not supported"),
    ],
)
def test_syntax_errors_name_what_is_wrong(query: str, names: str) -> None:
    with pytest.raises(LuceneSyntaxError, match=f"Cannot parse .*{names}" if names != "empty" else "empty"):
        compile_query(query, ANALYZER)


@pytest.mark.parametrize(("text_ranges", "found"), [(frozenset(), [10_000, 10_001, 10_010]),
                                                     (frozenset({"id"}), [2, 999, 10_010])])
def test_id_ranges_compare_numbers_or_text_as_the_reading_says(text_ranges: frozenset[str], found: list[int]) -> None:
    # as text, "10000" < "1001" and "2" > "1001": the cursor `id:[1001 TO *]` skips two and repeats two
    query = compile_query("id:[1001 TO *]", default_analyzer(frozenset()), text_ranges=text_ranges)
    assert [record_id for record_id in (2, 999, 10_000, 10_001, 10_010) if query({"id": record_id})] == found
