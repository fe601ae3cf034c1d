"""DESIGN §9 as properties: a number of any country, stored in any format, matches its caller on a tenant
of any region, through the verification, the live search (the sandbox's harsh Lucene) and the phone
index; and the same national digits under another country's caller never match.

Which twin may never match is the rule's own consequence: a value written with a country code
belongs to that country alone; a value written nationally with a trunk `0` (`020 7946 0958`) is no
national number of a country whose trunk is not `0` (`+1 207-946-0958`); and a value the tenant's
own region reads as a valid number is that number, whoever calls. Two trunk-`0` countries whose
national significant numbers coincide are indistinguishable in a nationally written value, and
the rule reads it in the caller's country: not a twin here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from insight.domain.index_records import INDEXED_ENTITIES, index_record, matches_from_index
from insight.domain.matching import build_search_query, verify_and_rank
from insight.domain.phones import holds_number, national_keys
from insight.store import Store, upgrade
from insight.store.phone_index import PhoneIndex
from insight.store.tables import utcnow
from sandbox.bullhorn import analyzer_for
from sandbox.lucene import compile_query

REGIONS = ("US", "GB", "FR", "DE", "AU", "IN", "IT", "ES", "NL", "JP", "BR", "ZA")
EXCLUDED = ("Archive", "Archived")
NATIONAL_FORMS = ("national", "national_digits", "national_dots", "national_dashes", "national_ext", "labelled")
EXPLICIT_FORMS = ("international", "e164", "idd_00", "intl_trunk")
#: countries whose trunk prefix is not `0`: none of them writes a number nationally with a leading `0`
NOT_TRUNK_ZERO = ("US", "RU", "IT", "ES")
PROPERTY = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@st.composite
def numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    """A valid number of one of REGIONS: an example number with some of its last digits redrawn."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from((PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)))
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    nsn = phonenumbers.national_significant_number(example)
    redrawn = draw(st.integers(0, 4))
    digits = str(draw(st.integers(0, 10**redrawn - 1))).zfill(redrawn) if redrawn else ""
    number = phonenumbers.parse(f"+{example.country_code}{nsn[: len(nsn) - redrawn]}{digits}", None)
    return number if phonenumbers.is_valid_number(number) else example


def stored_forms(number: phonenumbers.PhoneNumber) -> dict[str, str]:
    """The number as people type it: national forms without a country code, and forms with one."""
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    country = f"+{number.country_code}"
    rest = international.removeprefix(country).strip()
    forms = {
        "national": national,
        "national_digits": phonenumbers.normalize_digits_only(national),
        "national_dots": re.sub(r"[\s-]+", ".", national.replace("(", "").replace(")", "")),
        "national_dashes": re.sub(r"\s+", "-", national),
        "national_ext": f"{national} ext. 21",
        "labelled": f"Tel: {national}",
        "international": international,
        "e164": phonenumbers.format_number(number, PhoneNumberFormat.E164),
        "idd_00": f"00{number.country_code} {rest}",
    }
    region = phonenumbers.region_code_for_number(number)
    if region is not None and phonenumbers.ndd_prefix_for_region(region, True) == "0":
        forms["intl_trunk"] = f"{country} (0){rest}"
    return forms


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def twins(number: phonenumbers.PhoneNumber, form: str, value: str, tenant: str) -> Iterator[str]:
    """Callers with the number's national digits under another country code who may never hold `value`."""
    nsn = phonenumbers.national_significant_number(number)
    own = phonenumbers.region_code_for_number(number)
    digits = phonenumbers.normalize_digits_only(value.removesuffix(" ext. 21"))
    if form in EXPLICIT_FORMS:
        others: tuple[str, ...] = tuple(region for region in (*REGIONS, "RU") if region != own)
    elif digits == "0" + nsn:
        others = NOT_TRUNK_ZERO
    elif digits == nsn and tenant == own:
        others = tuple(region for region in REGIONS if region != own)
    else:
        others = ()
    for region in others:
        code = phonenumbers.country_code_for_region(region)
        if code == number.country_code:
            continue
        try:
            twin = phonenumbers.parse(f"+{code}{nsn}", None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(twin):
            yield e164(twin)


def stored(number: phonenumbers.PhoneNumber, form: str) -> tuple[str, str]:
    """The caller's E.164 and the number stored in `form` (examples of a form the country lacks are skipped)."""
    value = stored_forms(number).get(form)
    assume(value is not None)
    assert value is not None
    return e164(number), value


def tenant_reads_another_valid_number(value: str, tenant: str, caller: str) -> bool:
    """DESIGN §9 leaves the tenant's own reading in charge: a valid number there is that number."""
    try:
        reading = phonenumbers.parse(value, tenant)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(reading) and e164(reading) != caller


def record(record_id: int, value: str) -> dict[str, Any]:
    return {"id": record_id, "firstName": "Ada", "lastName": "Lovelace", "status": "Active", "isDeleted": False,
            "dateLastModified": record_id, "phone": value}


def verified(caller: str, value: str, tenant: str) -> bool:
    matches = verify_and_rank(caller, {"Candidate": [record(1, value)]}, default_region=tenant,
                              excluded_statuses=EXCLUDED)
    return [match.id for match in matches] == [1]


def lucene_finds(caller: str, value: str) -> bool:
    query = compile_query(build_search_query("Candidate", caller, EXCLUDED), analyzer_for("Candidate"))
    return bool(query(record(1, value)))


class IndexedTenant:
    """One phone index for the whole module: each example stores its record under a fresh id."""

    def __init__(self, store: Store) -> None:
        self.index = PhoneIndex(store.engine)
        self.scan = self.index.start_scan(INDEXED_ENTITIES, subscription_id="sub", last_request_id=0, now=utcnow())
        self.ids = itertools.count(1)

    def store(self, value: str, tenant: str) -> int:
        record_id = next(self.ids)
        entry = index_record("Candidate", record(record_id, value), default_region=tenant)
        assert entry is not None
        self.index.save_page("Candidate", self.scan, [entry], cursor=record_id, total=record_id, done=False,
                             now=utcnow())
        return record_id

    def finds(self, caller: str, record_id: int, tenant: str) -> bool:
        entries = [entry for entry in self.index.find(caller, national_keys(caller)) if entry.facts.id == record_id]
        matches = matches_from_index(caller, entries, default_region=tenant, excluded_statuses=EXCLUDED)
        return [match.id for match in matches] == [record_id]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexedTenant]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('regions')) / 'index.db'}"
    upgrade(url)
    store = Store(url)
    try:
        yield IndexedTenant(store)
    finally:
        store.dispose()


forms = st.sampled_from(NATIONAL_FORMS + EXPLICIT_FORMS)
tenants = st.sampled_from(REGIONS)


@PROPERTY
@given(number=numbers(), form=forms, tenant=tenants)
def test_a_number_of_any_country_in_any_format_holds_its_caller_on_a_tenant_of_any_region(
    number: phonenumbers.PhoneNumber, form: str, tenant: str
) -> None:
    caller, value = stored(number, form)
    expected = not (form in NATIONAL_FORMS and tenant_reads_another_valid_number(value, tenant, caller))
    assert verified(caller, value, tenant) is expected, (value, tenant)
    for twin in twins(number, form, value, tenant):
        assert not verified(twin, value, tenant), (value, tenant, twin)


@PROPERTY
@given(number=numbers(), form=forms, tenant=tenants)
def test_the_live_search_finds_every_format_under_harsh_tokenisation_and_verification_drops_the_twins(
    number: phonenumbers.PhoneNumber, form: str, tenant: str
) -> None:
    caller, value = stored(number, form)
    assert lucene_finds(caller, value), value
    for twin in twins(number, form, value, tenant):
        assert not (lucene_finds(twin, value) and verified(twin, value, tenant)), (value, tenant, twin)


@PROPERTY
@given(number=numbers(), form=forms, tenant=tenants)
def test_the_phone_index_answers_as_the_verified_search_does_for_callers_and_twins(
    indexed: IndexedTenant, number: phonenumbers.PhoneNumber, form: str, tenant: str
) -> None:
    caller, value = stored(number, form)
    record_id = indexed.store(value, tenant)
    assert indexed.finds(caller, record_id, tenant) is verified(caller, value, tenant), (value, tenant)
    for twin in twins(number, form, value, tenant):
        assert not indexed.finds(twin, record_id, tenant), (value, tenant, twin)


@PROPERTY
@given(value=st.text(max_size=30) | st.from_regex(r"[0+(]?[0-9 ().\-/x]{0,24}", fullmatch=True),
       number=numbers(), tenant=tenants)
def test_a_stored_value_that_is_no_number_never_raises_and_matches_only_when_it_holds_the_digits(
    value: str, number: phonenumbers.PhoneNumber, tenant: str
) -> None:
    caller = e164(number)
    held = holds_number(value, caller, tenant)
    entry = index_record("Candidate", record(1, value), default_region=tenant)
    assert entry is not None
    if held:
        assert phonenumbers.national_significant_number(number)[-4:] in phonenumbers.normalize_digits_only(value)
