from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from typing import Any

import phonenumbers
import pytest

from sandbox import people
from sandbox.demo_data import EPOCH_MS, PHONE_FIELDS, DemoData, build_demo_data

REGIONS = ("US", "GB", "FR", "DE", "AU", "IN")
ABROAD = ("GB", "FR", "DE", "AU", "IN")
EXCLUDED = {"Archive", "Archived"}
SHARED_KINDS = {"switchboard", "candidate_and_contact", "two_candidates", "archived_and_live"}


@cache
def demo() -> DemoData:
    return build_demo_data()


def stored_phones(data: DemoData) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """(entity, record, field, value) for every non-empty phone field of a person."""
    for entity, records in (("Candidate", data.candidates), ("ClientContact", data.contacts)):
        for record in records.values():
            for name in PHONE_FIELDS[entity]:
                if record[name]:
                    yield entity, record, name, record[name]


@cache
def parsed_in(region: str) -> dict[str, str | None]:
    """Every stored phone value read with `region` as the default, as E.164 (None when not valid)."""
    result: dict[str, str | None] = {}
    for _, _, _, value in stored_phones(demo()):
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            result[value] = None
            continue
        valid = phonenumbers.is_valid_number(number)
        result[value] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if valid else None
    return result


@cache
def read_on_us_tenant(value: str) -> str | None:
    """DESIGN §4 on the demo tenant: national numbers are US numbers, `00`/`011` prefixes work anyway."""
    for text in (value, re.sub(r"^(00|011)", "+", value)):
        try:
            number = phonenumbers.parse(text, "US")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


@cache
def held_on_us_tenant(value: str, e164: str) -> bool:
    """DESIGN §9 on the demo tenant: what the US does not read is read in the caller's own country."""
    us = read_on_us_tenant(value)
    if us is not None:
        return us == e164
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164) == e164


@cache
def number_of(value: str) -> str | None:
    """The number a stored value is, whoever reads it: the US reading, else the one country it is valid in."""
    readings = {parsed_in(region)[value] for region in ABROAD} - {None}
    return read_on_us_tenant(value) or (readings.pop() if len(readings) == 1 else None)


def callers_of(kind: str) -> list[Any]:
    return [caller for caller in demo().callers if caller.kind == kind]


def test_the_same_seed_builds_the_same_tenant_and_another_seed_does_not() -> None:
    assert build_demo_data() == demo()
    other = build_demo_data(seed=7)
    assert other.candidates != demo().candidates
    assert [caller.kind for caller in other.callers][:15] == [caller.kind for caller in demo().callers][:15]


def test_default_counts_include_one_placeholder_contact_per_company() -> None:
    data = demo()
    assert len(data.candidates) == 600
    assert len(data.companies) == 45
    assert len(data.contacts) == 180 + 45
    assert data.comment_actions == list(people.COMMENT_ACTIONS)


def test_person_ids_are_unique_across_candidates_contacts_and_corporate_users() -> None:
    data = demo()
    ids = [*data.candidates, *data.contacts, *data.corporate_users]
    assert len(ids) == len(set(ids))


def test_corporate_users_come_from_the_agents_with_a_disabled_twin_and_the_api_user() -> None:
    users = demo().corporate_users
    assert users[people.API_USER_ID]["username"] == people.API_USERNAME
    for agent in people.AGENTS:
        if agent.bullhorn_id is None:
            assert all(user["name"] != agent.name for user in users.values())
            continue
        user = users[agent.bullhorn_id]
        assert (user["email"], user["enabled"], user["isDeleted"]) == (agent.bullhorn_email, True, False)
        if agent.disabled_twin_id is not None:
            twin = users[agent.disabled_twin_id]
            assert (twin["email"], twin["enabled"], twin["isDeleted"]) == (agent.bullhorn_email, False, True)


def test_records_have_bullhorn_shapes_and_owners_are_enabled_corporate_users() -> None:
    data = demo()
    candidate = next(iter(data.candidates.values()))
    assert {"id", "firstName", "lastName", "name", "email", "status", "isDeleted", "dateAdded", "dateLastModified",
            "owner", "companyName", "occupation", *PHONE_FIELDS["Candidate"]} <= candidate.keys()
    for contact in data.contacts.values():
        assert "workPhone" not in contact
        assert contact["clientCorporation"]["id"] in data.companies
    for company in data.companies.values():
        assert {"id", "name", "phone", "status", "dateAdded"} <= company.keys()
    for record in [*data.candidates.values(), *data.contacts.values()]:
        owner = data.corporate_users[record["owner"]["id"]]
        assert owner["enabled"] and record["owner"]["lastName"] == owner["lastName"]
        assert record["dateAdded"] <= record["dateLastModified"] < EPOCH_MS


def test_every_company_has_its_archived_placeholder_contact_mostly_carrying_the_switchboard() -> None:
    data = demo()
    placeholders = [contact for contact in data.contacts.values() if contact["name"] == "Default Contact"]
    assert sorted(contact["clientCorporation"]["id"] for contact in placeholders) == sorted(data.companies)
    assert all(contact["status"] == "Archive" for contact in placeholders)
    carrying = [p for p in placeholders if p["phone"] == data.companies[p["clientCorporation"]["id"]]["phone"]]
    assert len(carrying) > len(placeholders) / 2


def test_every_stored_phone_is_a_valid_number_in_some_demo_region_and_fits_bullhorn_string_20() -> None:
    for _, _, _, value in stored_phones(demo()):
        assert len(value) <= 20, value
        assert any(parsed_in(region)[value] for region in REGIONS), value
    for company in demo().companies.values():
        assert any(phonenumbers.is_valid_number(phonenumbers.parse(company["phone"], r)) for r in REGIONS)


def test_phones_come_in_messy_real_world_formats() -> None:
    values = [value for _, _, _, value in stored_phones(demo())]
    patterns = {
        "us parentheses": r"^\(\d{3}\) \d{3}-\d{4}$", "us dots": r"^\d{3}\.\d{3}\.\d{4}$",
        "us dashes": r"^\d{3}-\d{3}-\d{4}$", "us +1 spaces": r"^\+1 \d{3} \d{3} \d{4}$",
        "us 1-": r"^1-\d{3}-\d{3}-\d{4}$", "extension x": r" x\d+$", "extension ext.": r" ext\. \d$",
        "uk national": r"^0[127]\d* \d", "uk +44": r"^\+44 [127]", "uk 0044": r"^0044 ", "uk (0)": r"^\+44 \(0\)",
        "uk mobile": r"^07\d{3} \d{6}$", "fr national": r"^0[167]( \d\d){4}$", "fr +33": r"^\+33 [167] ",
        "fr 0033": r"^0033 ", "fr dotted": r"^0[167](\.\d\d){4}$", "de national": r"^030 \d{7}$",
        "de +49": r"^\+49 30 ",
    }
    for name, pattern in patterns.items():
        assert any(re.search(pattern, value) for value in values), name


def test_many_people_have_one_to_three_phones_and_some_have_none() -> None:
    counts = [sum(bool(r[f]) for f in PHONE_FIELDS["Candidate"]) for r in demo().candidates.values()]
    assert {0, 1, 2, 3} <= set(counts)
    assert counts.count(0) < len(counts) / 4


def test_numbers_are_unique_except_the_deliberately_shared_ones() -> None:
    shared = {caller.e164 for caller in demo().callers if caller.kind in SHARED_KINDS}
    owners: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for entity, record, _, value in stored_phones(demo()):
        e164 = number_of(value)
        if e164:
            owners[e164].add((entity, record["id"]))
    assert {e164 for e164, who in owners.items() if len(who) > 1} == shared
    assert {e164 for e164, who in demo().phone_owners.items() if len(who) > 1} == shared


def expected_for(e164: str) -> tuple[tuple[str, int], ...]:
    """An independent lookup: read every stored phone as the demo tenant does and keep live owners, ranked."""
    best: dict[tuple[str, int], tuple[int, int]] = {}
    for entity, record, name, value in stored_phones(demo()):
        if not held_on_us_tenant(value, e164) or record["isDeleted"] or record["status"] in EXCLUDED:
            continue
        rank = (0 if name in ("phone", "mobile") else 1, -record["dateLastModified"])
        best[(entity, record["id"])] = min(best.get((entity, record["id"]), rank), rank)
    return tuple(sorted(best, key=lambda key: (best[key], key)))


def test_every_caller_expectation_matches_an_independent_lookup() -> None:
    for caller in demo().callers:
        assert caller.expected == expected_for(caller.e164), caller


def test_callers_raw_digits_are_aircall_international_format() -> None:
    for caller in demo().callers:
        number = phonenumbers.parse(caller.raw_digits)
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == caller.e164
        assert caller.raw_digits == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert len({caller.e164 for caller in demo().callers}) == len(demo().callers)


def test_callers_cover_candidates_contacts_and_every_phone_field() -> None:
    data = demo()
    matched = {(entity, data.phone_owners[c.e164][0][2]) for c in data.callers if c.kind in ("candidate", "contact")
               for entity, _ in c.expected}
    assert {("Candidate", name) for name in PHONE_FIELDS["Candidate"]} <= matched
    assert {("ClientContact", name) for name in PHONE_FIELDS["ClientContact"]} <= matched
    assert len(callers_of("unknown")) >= 3 and all(not c.expected for c in callers_of("unknown"))
    assert all(c.e164 not in data.phone_owners for c in callers_of("unknown"))


def test_a_company_switchboard_is_shared_by_five_live_contacts_of_that_company() -> None:
    (caller,) = callers_of("switchboard")
    data = demo()
    assert len(caller.expected) == 5 and {entity for entity, _ in caller.expected} == {"ClientContact"}
    companies = {data.contacts[i]["clientCorporation"]["id"] for _, i in caller.expected}
    assert len(companies) == 1
    assert read_on_us_tenant(data.companies[companies.pop()]["phone"]) == caller.e164


def test_a_primary_field_match_outranks_a_fresher_secondary_field_match() -> None:
    (caller,) = callers_of("candidate_and_contact")
    data = demo()
    (first_entity, first), (second_entity, second) = caller.expected
    assert (first_entity, second_entity) == ("Candidate", "ClientContact")
    assert data.contacts[second]["dateLastModified"] > data.candidates[first]["dateLastModified"]


def test_two_candidates_sharing_a_number_rank_by_most_recently_modified() -> None:
    (caller,) = callers_of("two_candidates")
    first, second = (demo().candidates[i] for _, i in caller.expected)
    assert first["dateLastModified"] > second["dateLastModified"]


def test_same_national_digits_in_two_countries_are_different_people() -> None:
    (us,) = callers_of("same_digits_us")
    (gb,) = callers_of("same_digits_gb")
    us_number, gb_number = phonenumbers.parse(us.e164), phonenumbers.parse(gb.e164)
    assert us_number.national_number == gb_number.national_number
    assert len(us.expected) == len(gb.expected) == 1 and us.expected != gb.expected
    ((_, us_id),), ((_, gb_id),) = us.expected, gb.expected
    us_value, gb_value = demo().candidates[us_id]["mobile"], demo().contacts[gb_id]["phone"]
    tokens = re.findall(r"\d+", us_value)
    assert "".join(tokens) == "".join(re.findall(r"\d+", gb_value))[2:], "the same digits after +44"


def test_soft_deleted_archived_and_placeholder_only_numbers_match_nobody() -> None:
    data = demo()
    for kind, excluded in (("deleted_only", 3), ("archived_only", 1), ("placeholder_only", 1)):
        callers = callers_of(kind)
        assert len(callers) == excluded and all(not caller.expected for caller in callers)
        for caller in callers:
            assert data.phone_owners[caller.e164], "the number is stored, only on excluded records"
    deleted_owners = [owner for c in callers_of("deleted_only") for owner in data.phone_owners[c.e164]]
    assert all((data.candidates | data.contacts)[i]["isDeleted"] for _, i, _ in deleted_owners)
    (archived_and_live,) = callers_of("archived_and_live")
    assert len(data.phone_owners[archived_and_live.e164]) == 2 and len(archived_and_live.expected) == 1


def test_numbers_of_five_countries_typed_as_their_locals_do_match_their_callers_on_a_us_tenant() -> None:
    data = demo()
    for region in ABROAD:
        (caller,) = callers_of(f"national_{region.lower()}")
        ((entity, record_id, name),) = data.phone_owners[caller.e164]
        value = (data.candidates | data.contacts)[record_id][name]
        assert value.startswith("0") and not value.startswith("00") and "+" not in value
        assert parsed_in(region)[value] == caller.e164 and read_on_us_tenant(value) is None
        assert caller.expected == ((entity, record_id),)
        assert caller.raw_digits.startswith(f"+{phonenumbers.country_code_for_region(region)} ")


def test_some_candidates_are_archived() -> None:
    statuses = [candidate["status"] for candidate in demo().candidates.values()]
    assert statuses.count("Archived") >= 10
    assert {"Active", "Available", "Placed", "New Lead"} <= set(statuses)


def test_a_larger_tenant_keeps_phone_owners_consistent() -> None:
    data = build_demo_data(seed=3, candidates=3000, contacts=300, companies=60)
    assert len(data.candidates) == 3000 and len(data.contacts) == 360
    assert sum(len(owners) for owners in data.phone_owners.values()) == len(list(stored_phones(data)))


def test_too_small_a_tenant_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        build_demo_data(candidates=5)
