"""Bullhorn's entity model as the fake knows it, and the `fields=` selection over it.

`fields=id,name,owner(id,firstName),notes[3](id,action)`: sub-fields on associations, `[n]` caps a
to-many (default 5, at most 10), `*` is every field. Unknown fields answer 400, as Bullhorn does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.bullhorn_errors import BullhornError

PERSON = "Person"
PERSON_ENTITIES = ("Candidate", "ClientContact", "CorporateUser")
#: the pipeline (reference/bullhorn-next.md §2): what a candidate is submitted or placed on
PIPELINE_ENTITIES = ("JobOrder", "JobSubmission", "Placement")
ENTITIES = (*PERSON_ENTITIES, "ClientCorporation", "Note", "NoteEntity", *PIPELINE_ENTITIES)
_PHONES = ("phone", "mobile", "phone2", "phone3", "pager", "fax", "fax2", "fax3")
_PERSON_COMMON = ("id", "firstName", "lastName", "name", "email", "status", "isDeleted", "dateAdded",
                  "dateLastModified", "occupation", *_PHONES)

BASE_FIELDS: dict[str, frozenset[str]] = {
    "Candidate": frozenset((*_PERSON_COMMON, "workPhone", "owner", "companyName", "notes")),
    "ClientContact": frozenset((*_PERSON_COMMON, "owner", "clientCorporation", "notes")),
    "ClientCorporation": frozenset(("id", "name", "phone", "billingPhone", "status", "dateAdded",
                                    "dateLastModified")),
    "CorporateUser": frozenset(("id", "firstName", "lastName", "name", "email", "email2", "email3", "username",
                                "enabled", "isDeleted", "masterUserID", "phone", "phone2", "phone3", "mobile")),
    "Note": frozenset(("id", "action", "comments", "commentingPerson", "personReference", "candidates",
                       "clientContacts", "corporateUsers", "jobOrder", "jobOrders", "placements", "leads",
                       "opportunities", "people", "dateAdded", "dateLastModified", "minutesSpent", "isDeleted",
                       "externalID", "migrateGUID")),
    "NoteEntity": frozenset(("id", "note", "targetEntityID", "targetEntityName")),
    "JobOrder": frozenset(("id", "title", "clientCorporation", "clientContact", "status", "isOpen", "isDeleted",
                           "owner", "dateAdded", "dateClosed", "dateLastModified")),
    "JobSubmission": frozenset(("id", "candidate", "jobOrder", "status", "dateAdded", "isDeleted", "isHidden",
                                "sendingUser", "dateLastModified")),
    # the doc table has no isDeleted: Placement is hard-deleted (reference/bullhorn-next.md §2)
    "Placement": frozenset(("id", "candidate", "jobOrder", "jobSubmission", "status", "dateBegin", "dateEnd",
                            "employmentType", "dateAdded", "dateLastModified")),
}
#: association -> target entity; targets the fake does not model render as bare ids
TO_ONE: dict[str, dict[str, str]] = {
    "Candidate": {"owner": "CorporateUser"},
    "ClientContact": {"owner": "CorporateUser", "clientCorporation": "ClientCorporation"},
    "Note": {"commentingPerson": PERSON, "personReference": PERSON, "jobOrder": "JobOrder"},
    "NoteEntity": {"note": "Note"},
    "JobOrder": {"clientCorporation": "ClientCorporation", "clientContact": "ClientContact",
                 "owner": "CorporateUser"},
    "JobSubmission": {"candidate": "Candidate", "jobOrder": "JobOrder", "sendingUser": "CorporateUser"},
    "Placement": {"candidate": "Candidate", "jobOrder": "JobOrder", "jobSubmission": "JobSubmission"},
}
TO_MANY: dict[str, dict[str, str]] = {
    "Candidate": {"notes": "Note"},
    "ClientContact": {"notes": "Note"},
    "Note": {"candidates": "Candidate", "clientContacts": "ClientContact", "corporateUsers": "CorporateUser",
             "people": PERSON, "jobOrders": "JobOrder", "placements": "Placement", "leads": "Lead",
             "opportunities": "Opportunity"},
}
_DEFAULT_SUB: dict[str, tuple[str, ...]] = {
    PERSON: ("id", "firstName", "lastName"), "Candidate": ("id", "firstName", "lastName"),
    "ClientContact": ("id", "firstName", "lastName"), "CorporateUser": ("id", "firstName", "lastName"),
    "ClientCorporation": ("id", "name"), "JobOrder": ("id", "title"),
}
TO_MANY_DEFAULT_COUNT = 5
TO_MANY_MAX_COUNT = 10


@dataclass(frozen=True)
class FieldSpec:
    name: str
    count: int | None = None
    sub: tuple[FieldSpec, ...] | None = None


_TOKEN = re.compile(r"\s*(\*|[A-Za-z_][\w.]*|\[\s*\d+\s*\]|[(),])")


def parse_fields(text: str) -> tuple[FieldSpec, ...]:
    tokens = _tokenize(text)
    specs, position = _parse_list(tokens, 0)
    if position != len(tokens):
        raise ValueError(f"unexpected {tokens[position]!r} in fields")
    return specs


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot read fields at {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _parse_list(tokens: list[str], position: int) -> tuple[tuple[FieldSpec, ...], int]:
    specs: list[FieldSpec] = []
    while True:
        if position >= len(tokens) or not (tokens[position] == "*" or tokens[position][0].isalpha()
                                            or tokens[position][0] == "_"):
            raise ValueError("a field name is missing in fields")
        name = tokens[position]
        position += 1
        count: int | None = None
        sub: tuple[FieldSpec, ...] | None = None
        if position < len(tokens) and tokens[position].startswith("["):
            count = int(tokens[position].strip("[] "))
            position += 1
        if position < len(tokens) and tokens[position] == "(":
            sub, position = _parse_list(tokens, position + 1)
            if position >= len(tokens) or tokens[position] != ")":
                raise ValueError("unbalanced parentheses in fields")
            position += 1
        specs.append(FieldSpec(name, count, sub))
        if position < len(tokens) and tokens[position] == ",":
            position += 1
            continue
        return tuple(specs), position


def fields_param(raw: Any) -> tuple[FieldSpec, ...]:
    """`fields` of a request; without it Bullhorn answers ids only."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return (FieldSpec("id"),)
    if not isinstance(raw, str):
        raise BullhornError(400, "Invalid fields parameter: a comma-separated string is expected.",
                            "errors.invalidField")
    try:
        return parse_fields(raw)
    except ValueError as exc:
        raise BullhornError(400, f"Invalid fields parameter: {exc}", "errors.invalidField") from exc


#: (entity, id) -> (concrete entity, record) or None; entity may be PERSON
Resolver = Callable[[str, int], "tuple[str, Mapping[str, Any]] | None"]
#: (entity, record, to-many field) -> [(concrete entity, record)]
ManyResolver = Callable[[str, Mapping[str, Any], str], "list[tuple[str, Mapping[str, Any]]]"]


class Renderer:
    def __init__(self, schema: Callable[[str], frozenset[str]], resolve: Resolver, many: ManyResolver) -> None:
        self._schema = schema
        self._resolve = resolve
        self._many = many

    def render(self, entity: str, record: Mapping[str, Any], specs: Iterable[FieldSpec]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": record.get("id")}
        for spec in self._expand(entity, specs):
            if spec.name in TO_ONE.get(entity, {}):
                out[spec.name] = self._to_one(TO_ONE[entity][spec.name], record.get(spec.name), spec)
            elif spec.name in TO_MANY.get(entity, {}):
                out[spec.name] = self._to_many(entity, record, spec)
            else:
                if spec.sub is not None:
                    raise _invalid(entity, f"{spec.name}(...)")
                out[spec.name] = record.get(spec.name)
        return out

    def _expand(self, entity: str, specs: Iterable[FieldSpec]) -> list[FieldSpec]:
        known = self._schema(entity)
        expanded: list[FieldSpec] = []
        for spec in specs:
            if spec.name == "*":
                expanded.extend(FieldSpec(name) for name in sorted(known))
            elif spec.name in known:
                expanded.append(spec)
            else:
                raise _invalid(entity, spec.name)
        return expanded

    def _to_one(self, target: str, reference: Any, spec: FieldSpec) -> dict[str, Any] | None:
        if not isinstance(reference, Mapping) or reference.get("id") is None:
            return None
        found = self._resolve(target, int(reference["id"])) if target in _RESOLVABLE else None
        if found is None:
            return {"id": reference["id"]}
        concrete, record = found
        rendered = self._nested(concrete, record, spec)
        if target == PERSON:
            rendered["_subtype"] = concrete
        return rendered

    def _to_many(self, entity: str, record: Mapping[str, Any], spec: FieldSpec) -> dict[str, Any]:
        items = self._many(entity, record, spec.name)
        limit = min(spec.count if spec.count is not None else TO_MANY_DEFAULT_COUNT, TO_MANY_MAX_COUNT)
        data = [self._nested(concrete, item, spec) for concrete, item in items[:limit]]
        return {"total": len(items), "data": data}

    def _nested(self, entity: str, record: Mapping[str, Any], spec: FieldSpec) -> dict[str, Any]:
        sub = spec.sub if spec.sub is not None else tuple(FieldSpec(n) for n in _DEFAULT_SUB.get(entity, ("id",)))
        # Nested selections stay one level deep, like Bullhorn's own: associations there are ids only,
        # unless the selection names their fields, as `jobOrder(id,clientCorporation(id,name))` does
        # (to-one associations nest: reference/bullhorn-next.md §2, `owner(corporation(name))`).
        explicit = {s.name for s in sub if s.sub is not None and s.name in TO_ONE.get(entity, {})}
        flat = tuple(FieldSpec(s.name, sub=s.sub if s.name in explicit else None) for s in sub)
        rendered = self.render(entity, record, flat)
        for name, value in rendered.items():
            if isinstance(value, dict) and name in TO_MANY.get(entity, {}):
                rendered[name] = {"total": value["total"]}
            elif isinstance(value, dict) and name not in explicit:
                rendered[name] = {"id": value.get("id")}
        return rendered


_RESOLVABLE = frozenset((PERSON, *ENTITIES))


def _invalid(entity: str, name: str) -> BullhornError:
    return BullhornError(400, f"Invalid field '{name}' for entity {entity}.", "errors.invalidField",
                         entity_name=entity)
