"""The demo company's people, lines and tags, shared by the Bullhorn and Aircall fakes.

Agents exist on both sides and are matched by e-mail the way Aircall's own integrations do; a few
Bullhorn spellings differ in case on purpose, one agent has no Bullhorn account at all and one has
a disabled duplicate, so the author mapping has something real to get right.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY_DOMAIN = "northwind-staffing.com"


@dataclass(frozen=True)
class Agent:
    aircall_id: int
    name: str
    aircall_email: str
    #: the e-mail as typed into Bullhorn's CorporateUser, or None when the agent has no Bullhorn login
    bullhorn_email: str | None
    bullhorn_id: int | None
    #: a second, disabled CorporateUser with the same e-mail (an old account never cleaned up)
    disabled_twin_id: int | None = None

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def last_name(self) -> str:
        return self.name.split(" ", 1)[1]


def _email(name: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{COMPANY_DOMAIN}"


_NAMES = [
    "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov",
    "Donald Knuth", "Frances Allen", "John Backus", "Radia Perlman", "Ken Thompson",
    "Margaret Hamilton", "Tim Berners-Lee", "Shafi Goldwasser", "Niklaus Wirth",
]
#: agents whose Bullhorn e-mail was typed with other capitals than Aircall's
_CASE_VARIANTS = {"Alan Turing", "Barbara Liskov", "Ken Thompson", "Radia Perlman"}
_NO_BULLHORN = {"Niklaus Wirth"}
_DISABLED_TWIN = {"Frances Allen"}

API_USER_ID = 1
API_USERNAME = "northwind.api"

AGENTS: tuple[Agent, ...] = tuple(
    Agent(
        aircall_id=731400 + index,
        name=name,
        aircall_email=_email(name),
        bullhorn_email=None
        if name in _NO_BULLHORN
        else (_email(name).title() if name in _CASE_VARIANTS else _email(name)),
        bullhorn_id=None if name in _NO_BULLHORN else 100 + index,
        disabled_twin_id=900 + index if name in _DISABLED_TWIN else None,
    )
    for index, name in enumerate(_NAMES, start=1)
)


@dataclass(frozen=True)
class Line:
    """An Aircall number (the agency's line, not the customer)."""

    id: int
    name: str
    digits: str
    country: str
    time_zone: str


LINES: tuple[Line, ...] = (
    Line(397301, "London Desk", "+44 20 3966 0100", "GB", "Europe/London"),
    Line(397302, "New York Recruiting", "+1 212-555-0100", "US", "America/New_York"),
    Line(397303, "Paris Bureau", "+33 1 84 88 00 00", "FR", "Europe/Paris"),
    Line(397304, "Manchester Contracts", "+44 161 850 0100", "GB", "Europe/London"),
    Line(397305, "Chicago Light Industrial", "+1 312-555-0190", "US", "America/Chicago"),
)

#: Bullhorn's settings/commentActionList for the demo tenant
COMMENT_ACTIONS: tuple[str, ...] = (
    "Outbound Call", "Inbound Call", "Sourcing Call", "Candidate Screen", "Reference Check",
    "Interview Scheduled", "Left Message", "BD Call", "Client Meeting", "Prescreen",
    "Placement Check-in", "Voicemail", "Missed Call", "Pending Note",
)

#: Aircall tags of the demo company: some are actions, one only differs by case, some are not
#: actions at all, one is too long to ever be one, one is put on by Aircall itself.
TAGS: tuple[str, ...] = (
    "Sourcing Call", "sourcing call", "Candidate Screen", "Reference Check", "Interview Scheduled",
    "Left Message", "BD Call", "Placement Check-in", "Cold Call", "Not Interested",
    "Follow up with hiring manager re Q3 contract roles", "Callback Request",
)
#: tags Aircall sets by itself (tagged_by is {} on the call)
SYSTEM_TAGS: frozenset[str] = frozenset({"Callback Request"})
