"""The deterministic demo tenant of the Bullhorn fake: people, companies, users, and who owns which number.

Phones are stored the way recruiters type them (national, international, 00-prefixed, dotted, with
extensions) and are all valid for `phonenumbers`; fictional ranges are used where libphonenumber
still accepts them (US 555-01xx, Ofcom's drama ranges, ARCEP's 01 99 00). A handful of numbers are
shared or soft-deleted on purpose, and `callers` says what a correct lookup of each test number finds.

Expectations assume the demo's CALLBRIDGE_DEFAULT_REGION=US (demo.env) and DESIGN §4: a number
written without a country code is read as a US number, so a UK number typed `020 7946 0958` matches
nobody, while `+44 20 7946 0958`, `0044 20 7946 0958` and `+44 (0)20 7946 0958` match its caller.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from sandbox import people

PHONE_FIELDS: dict[str, tuple[str, ...]] = {
    "Candidate": ("phone", "mobile", "workPhone", "phone2", "phone3"),
    "ClientContact": ("phone", "mobile", "phone2", "phone3"),
}
#: fields a match on ranks first (DESIGN §4)
PRIMARY_PHONE_FIELDS = frozenset({"phone", "mobile"})
EXCLUDED_STATUSES = frozenset({"Archive", "Archived"})
#: the region national numbers are read in when `callers` expectations are computed
DEFAULT_REGION = "US"
#: styles that carry their country code, so they read the same from any region
_INTERNATIONAL_STYLES = frozenset({"intl", "idd", "intl_trunk"})
#: "now" for the demo tenant; every timestamp is derived from it, never from the wall clock
EPOCH_MS = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp() * 1000)
_DAY_MS = 86_400_000


@dataclass(frozen=True)
class Caller:
    #: as Aircall writes it: international format with spaces, e.g. "+44 20 7946 0958"
    raw_digits: str
    e164: str
    #: (entity, id) in rank order; empty when no live record owns the number
    expected: tuple[tuple[str, int], ...]
    #: why the number is in the list: "candidate", "contact", "switchboard", "deleted_only", "unknown"…
    kind: str = ""


@dataclass
class DemoData:
    candidates: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: includes each company's archived placeholder contact
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    companies: dict[int, dict[str, Any]] = field(default_factory=dict)
    corporate_users: dict[int, dict[str, Any]] = field(default_factory=dict)
    comment_actions: list[str] = field(default_factory=list)
    callers: list[Caller] = field(default_factory=list)
    #: e164 -> every (entity, id, field) where it was typed, in any format (deleted and archived included)
    phone_owners: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)


_FIRST = (
    "Ada Amara Ben Chloe Daniel Emeka Fatima George Hannah Ivan Jade Kofi Laura Mateo Nadia Oliver Priya Quentin "
    "Rosa Samuel Tara Umar Valentina William Xin Yusuf Zoë José Łukasz Aoife Camille Hugo Léa Jonas Mia Noah "
    "Siobhan Thomas Inès Marcus Olga Pablo Ruth Sean Yara Felix Grace Amelia Luca"
).split()
_LAST = (
    "Lovelace Okafor Smith Dubois Müller Garcia Patel Nguyen O'Brien Kowalski Rossi Haddad Johnson Martin Schmidt "
    "Bernard Taylor Brown Wilson Moreau Fischer Lefèvre Evans Khan Chen Walker Wright Robinson Girard Weber Hughes "
    "Edwards Mensah Costa Novak Fontaine Jensen Murphy Ahmed Silva"
).split()
_OCCUPATIONS = (
    "Forklift Operator", "Registered Nurse", "Software Engineer", "Warehouse Associate", "Accountant",
    "HR Business Partner", "CNC Machinist", "Payroll Specialist", "Project Manager", "Data Analyst",
    "Customer Service Rep", "Electrician", "Welder", "Recruiter", "Office Manager", "Talent Acquisition Lead",
)
_COMPANY_WORDS = (
    "Analytical Harbor Summit Granite Northwind Bluebird Cobalt Meridian Riverside Keystone Lumen Evergreen "
    "Atlas Beacon Crescent"
).split()
_COMPANY_KINDS = ("Engines", "Logistics", "Health", "Foods", "Manufacturing", "Labs", "Retail", "Energy", "Finance")
_CANDIDATE_STATUS = {"Active": 30, "Available": 20, "Placed": 12, "New Lead": 15, "Passive": 10, "Archived": 8}
_CONTACT_STATUS = {"Active": 55, "Passive": 25, "Prospect": 15, "Archive": 5}
_COMPANY_STATUS = {"Active Account": 60, "Prospect": 25, "Passive Account": 15}
_REGION_WEIGHTS = {"US": 45, "GB": 33, "FR": 17, "DE": 5}
_COUNTRY_CODE = {"US": 1, "GB": 44, "FR": 33, "DE": 49}
# US area codes starting 2 or 7 are left out: their 10 digits could equal a London or UK mobile
# number's, and the one such pair in the tenant is put there on purpose
_US_AREAS = "312 415 404 305 512 617 646 303 602 503 480 614 901 916 832 858 469 347 630 508 952 425 972 612".split()
_GB_DRAMA_CITIES = "113 114 116 117 118 121 131 141 151 161".split()

_Number = tuple[str, tuple[str, ...]]  # (region, national significant number in display groups)


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randrange(10**count)).zfill(count)


def _draw_groups(rng: random.Random, region: str, fictional: bool) -> tuple[str, ...]:
    if region == "US":
        area = rng.choice(_US_AREAS)
        if fictional:
            return area, "555", "01" + _digits(rng, 2)
        return area, str(rng.randrange(200, 1000)), _digits(rng, 4)
    if region == "GB":
        if fictional:
            city = rng.choice(("20", *_GB_DRAMA_CITIES))
            return ("20", "7946", "0" + _digits(rng, 3)) if city == "20" else (city, "496", "0" + _digits(rng, 3))
        if rng.random() < 0.5:
            return "20", rng.choice("378") + _digits(rng, 3), _digits(rng, 4)
        return "7" + rng.choice("45789") + _digits(rng, 2), _digits(rng, 6)
    if region == "FR":
        if fictional:
            return "1", "99", "00", _digits(rng, 2), _digits(rng, 2)
        return rng.choice("1167"), *(_digits(rng, 2) for _ in range(4))
    return "30", str(rng.randrange(2, 10)) + _digits(rng, 6)


def _e164(number: _Number) -> str:
    return f"+{_COUNTRY_CODE[number[0]]}{''.join(number[1])}"


def _is_valid(number: _Number) -> bool:
    # a fixed-line or mobile match is what is_valid_number needs to call a number valid (it also takes
    # toll-free and the like, never generated here); checked directly it is 5x faster at 50,000 records
    nsn = "".join(number[1])
    return any(len(nsn) in lengths and pattern.fullmatch(nsn) for lengths, pattern in _validity(number[0]))


_VALIDITY: dict[str, list[tuple[frozenset[int], re.Pattern[str]]]] = {}


def _validity(region: str) -> list[tuple[frozenset[int], re.Pattern[str]]]:
    if region not in _VALIDITY:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        assert metadata is not None and metadata.general_desc is not None
        general = frozenset(metadata.general_desc.possible_length or ())
        _VALIDITY[region] = [
            (frozenset(desc.possible_length or ()) or general, re.compile(desc.national_number_pattern))
            for desc in (metadata.fixed_line, metadata.mobile)
            if desc is not None and desc.national_number_pattern
        ]
    return _VALIDITY[region]


#: region -> style -> (prefix, separator between the groups); US "paren" is the one that is not a join
_FORMATS: dict[str, dict[str, tuple[str, str]]] = {
    "US": {"paren": ("", ""), "dots": ("", "."), "dashes": ("", "-"), "intl": ("+1 ", " "), "one_dashes": ("1-", "-"),
           "intl_dots": ("+1 ", "."), "digits": ("", "")},
    "GB": {"national": ("0", " "), "intl": ("+44 ", " "), "idd": ("0044 ", " "), "intl_trunk": ("+44 (0)", " ")},
    "FR": {"national": ("0", " "), "intl": ("+33 ", " "), "idd": ("0033 ", " "), "dots": ("0", ".")},
    "DE": {"national": ("0", " "), "intl": ("+49 ", " ")},
}


class _Phones:
    """Draws unique valid numbers and formats them; remembers the style of every stored value."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        #: every stored text -> (e164, style such as "gb_intl_trunk" or "us_paren+ext")
        self.stored: dict[str, tuple[str, str]] = {}

    def draw(self, region: str | None = None) -> _Number:
        region = region or self.rng.choices(list(_REGION_WEIGHTS), list(_REGION_WEIGHTS.values()))[0]
        for attempt in range(200):
            # the fictional blocks hold a few thousand numbers: once they keep colliding, draw real-looking ones
            number = (region, _draw_groups(self.rng, region, fictional=attempt < 4 and self.rng.random() < 0.6))
            if _e164(number) not in self.used and _is_valid(number):
                self.used.add(_e164(number))
                return number
        raise RuntimeError(f"cannot draw another unique {region} number")

    def format(self, number: _Number, style: str | None = None, extension: str | None = None) -> str:
        region, groups = number
        style = style or self.rng.choice(list(_FORMATS[region]))
        prefix, separator = _FORMATS[region][style]
        text = f"({groups[0]}) {groups[1]}-{groups[2]}" if style == "paren" else prefix + separator.join(groups)
        if extension is None and region == "US" and self.rng.random() < 0.08:
            extension = self.rng.choice((f" x{self.rng.randrange(10, 1000)}", f" ext. {self.rng.randrange(1, 10)}"))
        # Bullhorn's phone fields are String(20)
        if extension and len(text + extension) <= 20:
            text, style = text + extension, style + "+ext"
        self.stored[text] = (_e164(number), f"{region.lower()}_{style}")
        return text


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in ascii_text.lower() if char.isalnum())


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.phones = _Phones(self.rng)
        self.data = DemoData(comment_actions=list(people.COMMENT_ACTIONS))
        self.owners = [agent for agent in people.AGENTS if agent.bullhorn_id is not None]
        self.serial = 0
        #: Candidate, ClientContact and CorporateUser ids share one sequence: Bullhorn stores all three as Users
        #: (NoteEntity's targetEntityName is "User" for each)
        self.next_person_id = 2001

    def times(self) -> tuple[int, int]:
        self.serial += 1
        # the serial in the low digits keeps dateLastModified unique (up to 100,000 people), so ranks never tie
        modified = EPOCH_MS - self.rng.randrange(1, 700 * 864) * 100_000 - self.serial % 100_000
        return modified - self.rng.randrange(3 * 365) * _DAY_MS - self.rng.randrange(_DAY_MS), modified

    def corporate_users(self) -> None:
        users = self.data.corporate_users
        users[people.API_USER_ID] = _user(people.API_USER_ID, "Northwind", "API", f"api@{people.COMPANY_DOMAIN}",
                                          people.API_USERNAME, enabled=True)
        for agent in self.owners:
            assert agent.bullhorn_id is not None and agent.bullhorn_email is not None
            username = agent.aircall_email.split("@")[0]
            users[agent.bullhorn_id] = _user(agent.bullhorn_id, agent.first_name, agent.last_name,
                                             agent.bullhorn_email, username, enabled=True)
            if agent.disabled_twin_id is not None:
                users[agent.disabled_twin_id] = _user(agent.disabled_twin_id, agent.first_name, agent.last_name,
                                                      agent.bullhorn_email, username + ".old", enabled=False)

    def person(self, entity: str, **fields: Any) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        added, modified = self.times()
        owner = rng.choice(self.owners)
        record: dict[str, Any] = {
            "id": self.next_person_id, "firstName": first, "lastName": last, "name": f"{first} {last}",
            "email": f"{_slug(first)}.{_slug(last)}.{self.next_person_id}@example.com",
            **dict.fromkeys(PHONE_FIELDS[entity]), "isDeleted": False, "dateAdded": added, "dateLastModified": modified,
            "owner": {"id": owner.bullhorn_id, "firstName": owner.first_name, "lastName": owner.last_name},
            "occupation": rng.choice(_OCCUPATIONS), **fields,
        }
        self.next_person_id += 1
        count = rng.choices((0, 1, 2, 3), (10, 45, 30, 15))[0]
        favourites = ("mobile", "phone", "workPhone") if entity == "Candidate" else ("phone", "mobile", "phone2")
        first_field = rng.choices(favourites, (50, 35, 15))[0]
        others = [name for name in PHONE_FIELDS[entity] if name != first_field]
        for name in [first_field, *rng.sample(others, count - 1)] if count else []:
            record[name] = self.phones.format(self.phones.draw())
        return record

    def companies(self, count: int) -> list[dict[str, Any]]:
        names = [f"{word} {kind}" for word in _COMPANY_WORDS for kind in _COMPANY_KINDS]
        self.rng.shuffle(names)
        names += [f"{name} {index}" for index, name in enumerate(names, start=2)]
        placeholders = []
        for index in range(count):
            number = self.phones.draw("US" if index < 2 else None)
            phone = self.phones.format(number, extension="")
            company_id = 301 + index
            name = names[index] if index < len(names) else f"Client {company_id}"
            # Bullhorn creates this archived contact with every ClientCorporation; most carry its switchboard
            placeholder = self.person("ClientContact", firstName="Default", lastName="Contact", name="Default Contact",
                                      email=None, status="Archive", occupation=None,
                                      clientCorporation={"id": company_id, "name": name})
            for key in PHONE_FIELDS["ClientContact"]:
                placeholder[key] = None
            placeholder["phone"] = phone if index < 2 or self.rng.random() < 0.7 else None
            self.data.companies[company_id] = {
                "id": company_id, "name": name, "phone": phone,
                "status": _weighted(self.rng, _COMPANY_STATUS), "dateAdded": placeholder["dateAdded"],
            }
            self.data.contacts[placeholder["id"]] = placeholder
            placeholders.append(placeholder)
        return placeholders


def build_demo_data(
    seed: int = 20261125, candidates: int = 600, contacts: int = 180, companies: int = 45
) -> DemoData:
    """The same tenant for the same arguments. `contacts` excludes the one placeholder per company."""
    if candidates < 12 or contacts < 12 or companies < 2:
        raise ValueError("the demo tenant needs at least 12 candidates, 12 contacts and 2 companies")
    builder = _Builder(seed)
    rng, phones, data = builder.rng, builder.phones, builder.data
    builder.corporate_users()
    same_digits = {"GB": ("GB", ("20", "7946", "0958")), "US": ("US", ("207", "946", "0958"))}
    phones.used.update(_e164(number) for number in same_digits.values())
    switchboard, shared, two_candidates, archived_and_live = (phones.draw(r) for r in ("US", "GB", "FR", "US"))
    deleted = [phones.draw(region) for region in ("US", "GB", "FR")]
    archived, foreign_national = phones.draw("US"), phones.draw("GB")
    unknown = [phones.draw(region) for region in _COUNTRY_CODE]

    placeholders = builder.companies(companies)
    company_list = list(data.companies.values())
    contact_list = []
    for index in range(contacts):
        company = company_list[0] if index < 5 else rng.choice(company_list)
        contact_list.append(builder.person(
            "ClientContact", status=_weighted(rng, _CONTACT_STATUS), isDeleted=rng.random() < 0.005,
            clientCorporation={"id": company["id"], "name": company["name"]},
        ))
    data.contacts.update((contact["id"], contact) for contact in contact_list)
    candidate_list = []
    for _ in range(candidates):
        employer = rng.choice(company_list)["name"] if rng.random() < 0.4 else f"{rng.choice(_COMPANY_WORDS)} Group"
        candidate_list.append(builder.person(
            "Candidate", status=_weighted(rng, _CANDIDATE_STATUS), isDeleted=rng.random() < 0.005,
            companyName=employer if rng.random() < 0.9 else None,
        ))
    data.candidates.update((candidate["id"], candidate) for candidate in candidate_list)

    k, c, fmt = contact_list, candidate_list, phones.format
    board = fmt(switchboard, "paren", "")
    company_list[0]["phone"] = placeholders[0]["phone"] = board
    for contact, style, extension in zip(
        k[:5], ("paren", "dots", "intl", "one_dashes", "dashes"), ("", " x21", " x305", "", " ext. 4"), strict=True
    ):
        _restage(contact, "Active", phone=fmt(switchboard, style, extension))
    _restage(c[0], "Active", mobile=fmt(shared, "intl"))
    _restage(k[5], "Active", phone2=fmt(shared, "idd"))
    if k[5]["dateLastModified"] < c[0]["dateLastModified"]:  # the secondary-field match is the fresher one
        k[5]["dateLastModified"], c[0]["dateLastModified"] = c[0]["dateLastModified"], k[5]["dateLastModified"]
    _restage(c[1], "Active", phone=fmt(two_candidates, "intl"))
    _restage(c[2], "Available", phone=fmt(two_candidates, "idd"), mobile=fmt(phones.draw()))
    _restage(c[3], "Active", mobile=fmt(same_digits["US"], "paren", ""))
    _restage(k[6], "Active", phone=fmt(same_digits["GB"], "intl"))
    _restage(c[4], "Active", mobile=fmt(deleted[0]), isDeleted=True)
    _restage(c[5], "Placed", phone=fmt(deleted[1], "intl"), isDeleted=True)
    _restage(k[7], "Active", mobile=fmt(deleted[2], "idd"), isDeleted=True)
    _restage(c[8], "Active", phone=fmt(foreign_national, "national"))
    _restage(c[6], "Archived", phone=fmt(archived))
    _restage(c[7], "Archived", phone=fmt(archived_and_live))
    _restage(k[8], "Active", mobile=fmt(archived_and_live, "intl"))

    for entity, records in (("Candidate", data.candidates), ("ClientContact", data.contacts)):
        for record in records.values():
            for name in PHONE_FIELDS[entity]:
                if record[name]:
                    e164 = phones.stored[record[name]][0]
                    data.phone_owners.setdefault(e164, []).append((entity, record["id"], name))
    staged = [
        ("switchboard", switchboard), ("candidate_and_contact", shared), ("two_candidates", two_candidates),
        ("same_digits_us", same_digits["US"]), ("same_digits_gb", same_digits["GB"]),
        *(("deleted_only", number) for number in deleted), ("archived_only", archived),
        ("archived_and_live", archived_and_live), ("foreign_national_only", foreign_national),
        *(("unknown", number) for number in unknown),
    ]
    callers = {_e164(number): kind for kind, number in staged}
    callers[phones.stored[placeholders[1]["phone"]][0]] = "placeholder_only"
    callers.update(_one_per_style_and_field(data, phones, set(callers)))
    data.callers = [_caller(data, phones, e164, kind) for e164, kind in callers.items()]
    return data


def _restage(record: dict[str, Any], status: str, isDeleted: bool = False, **phones: str) -> None:
    record.update(dict.fromkeys(PHONE_FIELDS["Candidate" if "workPhone" in record else "ClientContact"]))
    record.update(phones, status=status, isDeleted=isDeleted)


def _live(record: dict[str, Any]) -> bool:
    return not record["isDeleted"] and record["status"] not in EXCLUDED_STATUSES


def _one_per_style_and_field(data: DemoData, phones: _Phones, taken: set[str]) -> dict[str, str]:
    """Numbers owned by exactly one live record, covering every readable style and field of both entities."""
    found: dict[str, str] = {}
    covered: set[tuple[str, str]] = set()
    for entity, records in (("Candidate", data.candidates), ("ClientContact", data.contacts)):
        for record in records.values():
            if not _live(record):
                continue
            for name in PHONE_FIELDS[entity]:
                if not record[name]:
                    continue
                e164, style = phones.stored[record[name]]
                wanted = {(entity, style), (entity, name)} - covered
                if wanted and _readable(style) and e164 not in taken and len(data.phone_owners[e164]) == 1:
                    covered |= wanted
                    taken.add(e164)
                    found[e164] = "candidate" if entity == "Candidate" else "contact"
    return found


def _readable(style: str) -> bool:
    region, _, shape = style.partition("_")
    return region == DEFAULT_REGION.lower() or shape.partition("+")[0] in _INTERNATIONAL_STYLES


def _caller(data: DemoData, phones: _Phones, e164: str, kind: str) -> Caller:
    best: dict[tuple[str, int], int] = {}
    modified: dict[tuple[str, int], int] = {}
    for entity, record_id, name in data.phone_owners.get(e164, []):
        record = (data.candidates if entity == "Candidate" else data.contacts)[record_id]
        if _live(record) and _readable(phones.stored[record[name]][1]):
            key = (entity, record_id)
            best[key] = min(best.get(key, 1), 0 if name in PRIMARY_PHONE_FIELDS else 1)
            modified[key] = record["dateLastModified"]
    expected = tuple(sorted(best, key=lambda key: (best[key], -modified[key], key)))
    raw_digits = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return Caller(raw_digits, e164, expected, kind)


def _user(user_id: int, first: str, last: str, email: str, username: str, *, enabled: bool) -> dict[str, Any]:
    # a disabled CorporateUser is also isDeleted=true in Bullhorn (dataloader's isPersonActive)
    return {"id": user_id, "firstName": first, "lastName": last, "name": f"{first} {last}", "email": email,
            "username": username, "enabled": enabled, "isDeleted": not enabled}
