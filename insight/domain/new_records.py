"""A Bullhorn record for an unknown caller (DESIGN §12 "Create a record"), as pure functions.

`read_request` checks what `POST /api/calls/{id}/create-record` was sent, naming the field that is
wrong; `record_body` is the `PUT entity/{Candidate|ClientContact}` body: `firstName`, `lastName` and
`name` (Bullhorn does not fill `name` in, and a contact without it cannot be picked in the UI),
the caller's E.164 number in `mobile` when it is a mobile number and in `phone` otherwise, the
agent as `owner` when mapped (else Bullhorn makes the API user the owner), and a contact's
`clientCorporation` (it has no default: reference/bullhorn-next.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import phonenumbers

ENTITIES = ("Candidate", "ClientContact")
#: Bullhorn's firstName and lastName columns are 50 characters
MAX_NAME_LEN = 50
#: Lucene's special characters, escaped in a company name search
_LUCENE_SPECIALS = set('+-&|!(){}[]^"~*?:\\/')

NewEntity = Literal["Candidate", "ClientContact"]


class BadRecordRequest(ValueError):
    """The request cannot become a record; `field` names what to fix."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field


@dataclass(frozen=True)
class NewRecord:
    entity: NewEntity
    first_name: str
    last_name: str
    client_corporation_id: int | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def read_request(body: object) -> NewRecord:
    if not isinstance(body, Mapping):
        raise BadRecordRequest("body", "must be a JSON object")
    entity = body.get("entity")
    if entity not in ENTITIES:
        raise BadRecordRequest("entity", f"must be one of {', '.join(ENTITIES)}, got {entity!r}")
    names = {}
    for field in ("first_name", "last_name"):
        value = body.get(field)
        if not isinstance(value, str) or not " ".join(value.split()):
            raise BadRecordRequest(field, "is required (a non-empty string)")
        names[field] = " ".join(value.split())
        if len(names[field]) > MAX_NAME_LEN or "\x00" in names[field]:
            raise BadRecordRequest(field, f"must be at most {MAX_NAME_LEN} characters of text")
    company = body.get("client_corporation_id")
    if entity == "ClientContact":
        if isinstance(company, str) and company.strip().isdigit():
            company = int(company.strip())
        if not isinstance(company, int) or isinstance(company, bool) or not 0 < company < 2**63:
            raise BadRecordRequest("client_corporation_id", "is required for a ClientContact (the id of its "
                                   "ClientCorporation)")
    else:
        company = None
    return NewRecord(entity, names["first_name"], names["last_name"], company)


def phone_field_for(e164: str) -> str:
    """`mobile` for a mobile number, `phone` for every other (fixed line, or either, as US numbers are)."""
    number = phonenumbers.parse(e164)
    return "mobile" if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE else "phone"


def record_body(record: NewRecord, *, e164: str, owner_id: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"firstName": record.first_name, "lastName": record.last_name, "name": record.name,
                            phone_field_for(e164): e164}
    if owner_id is not None:
        body["owner"] = {"id": owner_id}
    if record.client_corporation_id is not None:
        body["clientCorporation"] = {"id": record.client_corporation_id}
    return body


def company_query(text: str) -> str | None:
    """A Lucene query for ClientCorporations whose name has words starting with those typed; None for nothing."""
    words = ["".join(f"\\{char}" if char in _LUCENE_SPECIALS else char for char in word) for word in text.split()]
    words = [word for word in words if word][:5]
    if not words:
        return None
    return " AND ".join(f"name:{word}*" for word in words)
