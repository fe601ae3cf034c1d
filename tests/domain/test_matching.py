from __future__ import annotations

import json
import re
from typing import Any

import pytest

from insight.domain.matching import (
    PHONE_FIELDS,
    PRIMARY_FIELDS,
    SEARCH_FIELDS,
    Match,
    MatchJsonError,
    build_search_query,
    verify_and_rank,
)

UK = "+442079460958"
EXCLUDED = ("Archive", "Archived")
#: a field left out of a stored match
MISSING = object()


def candidate(record_id: int, modified: int = 1_700_000_000_000, **fields: Any) -> dict[str, Any]:
    return {
        "id": record_id,
        "firstName": "Ada",
        "lastName": f"Lovelace {record_id}",
        "name": f"Ada Lovelace {record_id}",
        "status": "Active",
        "isDeleted": False,
        "dateLastModified": modified,
        "companyName": "Analytical Engines Ltd",
        "owner": {"id": 7, "firstName": "Grace", "lastName": "Hopper"},
        **fields,
    }


def contact(record_id: int, modified: int = 1_700_000_000_000, **fields: Any) -> dict[str, Any]:
    record = candidate(record_id, modified, **fields)
    del record["companyName"]
    record["clientCorporation"] = {"id": 3, "name": "Difference Engines plc"}
    return record


def rank(candidates: list[dict[str, Any]], contacts: list[dict[str, Any]] | None = None) -> list[Match]:
    return verify_and_rank(
        UK,
        {"Candidate": candidates, "ClientContact": contacts or []},
        default_region="GB",
        excluded_statuses=EXCLUDED,
    )


def test_phone_fields_are_the_documented_ones() -> None:
    assert PHONE_FIELDS == {
        "Candidate": ("phone", "mobile", "workPhone", "phone2", "phone3"),
        "ClientContact": ("phone", "mobile", "phone2", "phone3"),
    }
    assert PRIMARY_FIELDS == ("phone", "mobile")


def test_search_fields_request_what_verification_and_the_card_need() -> None:
    candidate_fields = SEARCH_FIELDS["Candidate"].split(",")
    assert "companyName" in candidate_fields and "workPhone" in candidate_fields
    assert "clientCorporation(id" in SEARCH_FIELDS["ClientContact"]
    assert "workPhone" not in SEARCH_FIELDS["ClientContact"]
    for fields in SEARCH_FIELDS.values():
        assert "owner(id,firstName,lastName)" in fields and "dateLastModified" in fields and "isDeleted" in fields


def test_the_query_searches_every_phone_field_of_the_entity_with_every_variant() -> None:
    query = build_search_query("ClientContact", UK, EXCLUDED)
    for field in PHONE_FIELDS["ClientContact"]:
        assert f'{field}:"020 7946 0958"' in query and f"{field}:2079460958" in query
    assert "workPhone:" not in query
    assert query.endswith(') AND isDeleted:false NOT status:"Archive" NOT status:"Archived"')


def test_excluded_statuses_are_quoted_and_escaped_in_the_query() -> None:
    query = build_search_query("Candidate", UK, ['Do "not" use', "back\\slash", "  "])
    assert query.endswith(' NOT status:"Do \\"not\\" use" NOT status:"back\\\\slash"')


def test_an_unknown_entity_is_refused() -> None:
    with pytest.raises(ValueError, match="Lead"):
        build_search_query("Lead", UK, EXCLUDED)


def test_only_records_whose_number_really_normalises_to_the_caller_match() -> None:
    matches = rank(
        [
            candidate(1, phone="020 7946 0958"),
            candidate(2, phone="001 207 946 0958"),  # the same digits in Maine: found by the search
            candidate(3, mobile="+1 207 946 0958"),
            candidate(4, phone="0161 496 0958"),
            candidate(5, phone=None, mobile=""),
        ]
    )
    assert [match.id for match in matches] == [1]


def test_on_a_us_tenant_the_same_national_digits_are_a_us_number() -> None:
    matches = verify_and_rank(
        UK,
        {"Candidate": [candidate(1, phone="(207) 946-0958"), candidate(2, phone="2079460958")]},
        default_region="US",
        excluded_statuses=EXCLUDED,
    )
    assert matches == []


def test_a_stored_uk_national_number_matches_a_uk_caller_in_a_us_tenant() -> None:
    records = [candidate(1, phone="020 7946 0958"), candidate(2, mobile="02079460958 ext 4"),
               candidate(3, phone="44 20 7946 0958")]
    matches = verify_and_rank(UK, {"Candidate": records}, default_region="US", excluded_statuses=EXCLUDED)
    assert [(match.id, match.phone_field) for match in matches] == [(1, "phone"), (2, "mobile"), (3, "phone")]


def test_a_stored_uk_national_number_never_matches_a_us_caller_with_the_same_digits() -> None:
    records = {"Candidate": [candidate(1, phone="020 7946 0958"), candidate(2, phone="0207 946 0958")]}
    for region in ("US", "GB", "FR"):
        assert verify_and_rank("+12079460958", records, default_region=region, excluded_statuses=EXCLUDED) == []


def test_a_number_the_default_region_reads_is_never_read_again_in_the_callers_country() -> None:
    # "(207) 946-0958" is a Maine number on a US tenant, though as a UK national number it is London's
    matches = verify_and_rank(UK, {"Candidate": [candidate(1, phone="(207) 946-0958")]}, default_region="US",
                              excluded_statuses=EXCLUDED)
    assert matches == []


def test_a_french_national_number_matches_its_caller_on_a_uk_tenant() -> None:
    records = {"Candidate": [candidate(1, phone="01 42 68 53 00"), candidate(2, phone="01.42.68.53.00")]}
    matches = verify_and_rank("+33142685300", records, default_region="GB", excluded_statuses=EXCLUDED)
    assert [match.id for match in matches] == [1, 2]


@pytest.mark.parametrize("value", ["not a number", "", "+", "0", "0000000000", "anonymous", "☎ 020 7946 0958 ☎☎" * 3,
                                   "+999 20 7946 0958", "020 7946 0958 0958 0958 0958", 12, None, ["020 7946 0958"]])
def test_a_stored_value_that_is_not_the_callers_number_never_matches_and_never_raises(value: Any) -> None:
    matches = verify_and_rank(UK, {"Candidate": [candidate(1, phone=value)]}, default_region="US",
                              excluded_statuses=EXCLUDED)
    assert matches == []


def test_deleted_and_excluded_records_never_match_whatever_the_case_of_the_status() -> None:
    matches = rank(
        [
            candidate(1, phone=UK, isDeleted=True),
            candidate(2, phone=UK, isDeleted="true"),
            candidate(3, phone=UK, status="archived "),
            candidate(4, phone=UK, status="ARCHIVE"),
            candidate(5, phone=UK, status="Active"),
        ]
    )
    assert [match.id for match in matches] == [5]


def test_the_archived_placeholder_contact_of_a_new_company_never_matches() -> None:
    placeholder = contact(9, phone="020 7946 0958", status="Archive", firstName="", lastName="", name="")
    assert rank([], [placeholder]) == []


def test_a_record_matching_on_several_fields_counts_once_with_its_best_field() -> None:
    matches = rank([candidate(1, phone3="0044 20 7946 0958", mobile="+44 (0)20 7946 0958", phone="0161 496 0000")])
    assert len(matches) == 1
    assert (matches[0].phone_field, matches[0].is_primary) == ("mobile", True)


def test_a_record_returned_twice_counts_once() -> None:
    assert len(rank([candidate(1, phone=UK), candidate(1, phone=UK)])) == 1


def test_primary_fields_rank_before_others_then_most_recent_then_candidates_then_id() -> None:
    matches = rank(
        [
            candidate(10, modified=9_000, workPhone=UK),
            candidate(11, modified=1_000, mobile=UK),
            candidate(12, modified=5_000, phone=UK),
            candidate(14, modified=5_000, phone=UK),
        ],
        [contact(13, modified=5_000, phone=UK), contact(15, modified=9_999, phone2=UK)],
    )
    assert [(match.entity, match.id) for match in matches] == [
        ("Candidate", 12),
        ("Candidate", 14),
        ("ClientContact", 13),
        ("Candidate", 11),
        ("ClientContact", 15),
        ("Candidate", 10),
    ]


def test_a_shared_switchboard_number_ranks_every_holder_deterministically() -> None:
    contacts = [contact(record_id, modified=5_000, phone="+44 20 7946 0958") for record_id in (31, 30, 32)]
    first = rank([], contacts)
    again = rank([], list(reversed(contacts)))
    assert [match.id for match in first] == [match.id for match in again] == [30, 31, 32]


def test_a_match_carries_what_the_card_shows() -> None:
    [ada] = rank([candidate(42, modified=1_764_064_800_000, mobile="020 7946 0958")])
    assert ada == Match(
        entity="Candidate",
        id=42,
        name="Ada Lovelace 42",
        owner="Grace Hopper",
        company="Analytical Engines Ltd",
        status="Active",
        phone_field="mobile",
        date_last_modified=1_764_064_800_000,
        is_primary=True,
    )
    [contact_match] = rank([], [contact(7, phone=UK, name=None, owner=None)])
    assert (contact_match.name, contact_match.owner, contact_match.company) == (
        "Ada Lovelace 7",
        None,
        "Difference Engines plc",
    )


def test_a_match_survives_a_json_round_trip_for_the_store_and_the_shared_cache() -> None:
    [match] = rank([candidate(1, phone=UK)])
    stored = json.loads(json.dumps(match.to_json()))
    assert stored == {"entity": "Candidate", "id": 1, "name": "Ada Lovelace 1", "owner": "Grace Hopper",
                      "company": "Analytical Engines Ltd", "status": "Active", "phone_field": "phone",
                      "date_last_modified": 1_700_000_000_000, "is_primary": True}
    assert Match.from_json(stored) == match


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"phone_field": MISSING}, "has no field 'phone_field'"),
        ({"fields": ["phone"]}, "has the field 'fields', unknown to this version"),
        ({"id": "1"}, "field 'id' is '1', not int"),
        ({"id": True}, "field 'id' is True, not int"),
        ({"owner": 7}, "field 'owner' is 7, not str or null"),
    ],
)
def test_a_stored_match_of_another_shape_fails_naming_the_field(change: dict[str, Any], message: str) -> None:
    [match] = rank([candidate(1, phone=UK)])
    stored = {key: value for key, value in {**match.to_json(), **change}.items() if value is not MISSING}
    with pytest.raises(MatchJsonError, match=re.escape(message)):
        Match.from_json(stored)


def test_a_stored_match_that_is_not_an_object_fails() -> None:
    with pytest.raises(MatchJsonError, match="a JSON list, not an object"):
        Match.from_json(["Candidate", 1])


def test_malformed_records_are_skipped_not_fatal() -> None:
    matches = rank([{"phone": UK}, {"id": "x", "phone": UK}, candidate(2, phone=12345), candidate(3, phone=UK)])
    assert [match.id for match in matches] == [3]
