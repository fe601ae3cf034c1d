"""The deterministic demo tenant of the Bullhorn fake: people, companies, users, and who owns which number.

Phones are drawn and typed by `sandbox.demo_phones`. A handful of numbers are shared or soft-deleted
on purpose, and `callers` says what a correct lookup of each test number finds.

Expectations assume the demo's CALLBRIDGE_DEFAULT_REGION=US (demo.env) and DESIGN §9: a number
written without a country code is read as a US number, and when it is none (`020 7946 0958`) as a
national number of the caller's country, so it matches its `+44 20 7946 0958` caller as
`+44 20 7946 0958`, `0044 20 7946 0958` and `+44 (0)20 7946 0958` do; `(207) 946-0958` stays Maine's.
The tenant has offices abroad: a few records hold numbers of GB, FR, DE, AU and IN as the locals
write them (callers of kind `national_<region>`).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from sandbox import people
from sandbox.bullhorn_pipeline import add_pipelines
from sandbox.demo_phones import Phones, e164_of, is_readable

PHONE_FIELDS: dict[str, tuple[str, ...]] = {
    "Candidate": ("phone", "mobile", "workPhone", "phone2", "phone3"),
    "ClientContact": ("phone", "mobile", "phone2", "phone3"),
}
#: fields a match on ranks first (DESIGN §4)
PRIMARY_PHONE_FIELDS = frozenset({"phone", "mobile"})
EXCLUDED_STATUSES = frozenset({"Archive", "Archived"})
#: the region national numbers are read in when `callers` expectations are computed
DEFAULT_REGION = "US"
#: "now" for the demo tenant; every timestamp is derived from it, never from the wall clock
EPOCH_MS = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp() * 1000)
_DAY_MS = 86_400_000
#: countries whose numbers the tenant also stores in their national format (besides one of GB)
_ABROAD = ("FR", "DE", "AU", "IN")


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
    #: the pipeline (`sandbox.bullhorn_pipeline`): jobs, the candidates submitted to them, those placed
    job_orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    submissions: dict[int, dict[str, Any]] = field(default_factory=dict)
    placements: dict[int, dict[str, Any]] = field(default_factory=dict)


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
def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in ascii_text.lower() if char.isalnum())


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.phones = Phones(self.rng)
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
    phones.used.update(e164_of(number) for number in same_digits.values())
    switchboard, shared, two_candidates, archived_and_live = (phones.draw(r) for r in ("US", "GB", "FR", "US"))
    deleted = [phones.draw(region) for region in ("US", "GB", "FR")]
    archived, foreign_national = phones.draw("US"), phones.draw("GB")
    unknown = [phones.draw(region) for region in ("US", "GB", "FR", "DE")]

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
    # drawn after everything else, so the rest of the tenant is the same as before they came
    abroad = {region: phones.draw(region) for region in _ABROAD}
    for record, region, name in zip((c[9], k[9], c[10], k[10]), _ABROAD, ("mobile", "phone", "phone", "mobile"),
                                     strict=True):
        _restage(record, "Active", False, **{name: fmt(abroad[region], "national")})
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
        ("archived_and_live", archived_and_live), ("national_gb", foreign_national),
        *((f"national_{region.lower()}", number) for region, number in abroad.items()),
        *(("unknown", number) for number in unknown),
    ]
    callers = {e164_of(number): kind for kind, number in staged}
    callers[phones.stored[placeholders[1]["phone"]][0]] = "placeholder_only"
    callers.update(_one_per_style_and_field(data, phones, set(callers)))
    data.callers = [_caller(data, phones, e164, kind) for e164, kind in callers.items()]
    add_pipelines(data, seed)
    return data


def _restage(record: dict[str, Any], status: str, isDeleted: bool = False, **phones: str) -> None:
    record.update(dict.fromkeys(PHONE_FIELDS["Candidate" if "workPhone" in record else "ClientContact"]))
    record.update(phones, status=status, isDeleted=isDeleted)


def _live(record: dict[str, Any]) -> bool:
    return not record["isDeleted"] and record["status"] not in EXCLUDED_STATUSES


def _one_per_style_and_field(data: DemoData, phones: Phones, taken: set[str]) -> dict[str, str]:
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
                readable = is_readable(style, DEFAULT_REGION)
                if wanted and readable and e164 not in taken and len(data.phone_owners[e164]) == 1:
                    covered |= wanted
                    taken.add(e164)
                    found[e164] = "candidate" if entity == "Candidate" else "contact"
    return found


def _caller(data: DemoData, phones: Phones, e164: str, kind: str) -> Caller:
    best: dict[tuple[str, int], int] = {}
    modified: dict[tuple[str, int], int] = {}
    for entity, record_id, name in data.phone_owners.get(e164, []):
        record = (data.candidates if entity == "Candidate" else data.contacts)[record_id]
        if _live(record) and is_readable(phones.stored[record[name]][1], DEFAULT_REGION):
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
