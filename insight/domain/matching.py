"""Who owns a number: the Bullhorn search per entity, then verification and ranking of what it returns.

Pure functions over plain data; `insight.lookup.service` does the I/O around them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, get_type_hints

from insight.domain.phones import holds_number, search_variants

__all__ = [
    "ENTITY_ORDER",
    "PHONE_FIELDS",
    "PRIMARY_FIELDS",
    "SEARCH_FIELDS",
    "Match",
    "MatchJsonError",
    "RecordFacts",
    "build_search_query",
    "match_record",
    "rank",
    "read_record",
    "verify_and_rank",
]

PHONE_FIELDS: dict[str, tuple[str, ...]] = {
    "Candidate": ("phone", "mobile", "workPhone", "phone2", "phone3"),
    "ClientContact": ("phone", "mobile", "phone2", "phone3"),
}
PRIMARY_FIELDS: tuple[str, ...] = ("phone", "mobile")

_COMMON_FIELDS = "id,firstName,lastName,name,status,isDeleted,dateLastModified"
SEARCH_FIELDS: dict[str, str] = {
    "Candidate": f"{_COMMON_FIELDS},companyName,owner(id,firstName,lastName),{','.join(PHONE_FIELDS['Candidate'])}",
    "ClientContact": (
        f"{_COMMON_FIELDS},clientCorporation(id,name),owner(id,firstName,lastName),"
        f"{','.join(PHONE_FIELDS['ClientContact'])}"
    ),
}

#: tie-break after field rank and recency. Candidates first: in a staffing agency most calls are
#: with candidates, and when a person exists as both (a hiring manager who is also looking), the
#: Candidate record is the personal one, while contacts often share a company switchboard number.
ENTITY_ORDER: tuple[str, ...] = ("Candidate", "ClientContact")


class MatchJsonError(ValueError):
    """A stored match is not a `Match` as this version writes it: its schema changed under it."""


@dataclass(frozen=True)
class Match:
    """A live record that holds the number looked up: what its card shows, and the field holding it.

    The one type for a match, whether found by a live search or in the phone index; it is stored
    (the call's `match_json`, the shared lookup cache) as `to_json()` and read back with `from_json()`.
    """

    entity: str
    id: int
    name: str
    owner: str | None
    company: str | None
    status: str | None
    #: the best phone field that holds the caller's number (primary fields first)
    phone_field: str
    #: Bullhorn's dateLastModified, epoch milliseconds (0 when absent)
    date_last_modified: int
    is_primary: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Match:
        """The match `to_json` wrote; `MatchJsonError` names the field when `data` has another shape."""
        if not isinstance(data, Mapping):
            raise MatchJsonError(f"a stored match is a JSON {type(data).__name__}, not an object")
        for name, kind in _MATCH_TYPES.items():
            if name not in data:
                raise MatchJsonError(f"a stored match has no field {name!r}")
            value = data[name]
            # JSON true is no id: bool passes isinstance(…, int)
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
                raise MatchJsonError(f"a stored match's field {name!r} is {value!r}, not {_type_name(kind)}")
        unknown = sorted(str(name) for name in data if name not in _MATCH_TYPES)
        if unknown:
            raise MatchJsonError(f"a stored match has the field {unknown[0]!r}, unknown to this version")
        return cls(**{name: data[name] for name in _MATCH_TYPES})


#: field -> type, for reading a stored match back
_MATCH_TYPES: dict[str, Any] = get_type_hints(Match)


@dataclass(frozen=True)
class RecordFacts:
    """A Candidate or ClientContact as Bullhorn's JSON gives it, read one way for live and indexed lookups.

    Not yet a `Match`: it may be deleted or have an excluded status (the index keeps such records, as
    an event can bring them back and the exclusions are settings), and no number is asked about yet.
    """

    entity: str
    id: int
    name: str
    owner: str | None
    company: str | None
    status: str | None
    date_last_modified: int
    is_deleted: bool


def read_record(entity: str, record: Mapping[str, Any]) -> RecordFacts | None:
    """The card facts of a record as search or GET returns it; None without a usable id."""
    record_id = _int(record.get("id"))
    if record_id is None:
        return None
    return RecordFacts(
        entity=entity,
        id=record_id,
        name=_name(record) or f"{entity} #{record_id}",
        owner=_person(record.get("owner")),
        company=_company(record),
        status=_text(record.get("status")),
        date_last_modified=_int(record.get("dateLastModified")) or 0,
        is_deleted=_truthy(record.get("isDeleted")),
    )


def match_record(facts: RecordFacts, holding: Collection[str], excluded_statuses: Sequence[str]) -> Match | None:
    """The record as a match for a number it holds in the fields `holding`; None if deleted or excluded."""
    excluded = {status.strip().casefold() for status in excluded_statuses if status.strip()}
    field = next((name for name in _by_preference(_phone_fields(facts.entity)) if name in holding), None)
    if field is None or not _live(facts, excluded):
        return None
    return _match(facts, field)


def rank(matches: Iterable[Match]) -> list[Match]:
    """Best first: primary field, then most recently modified (DESIGN §4)."""
    return sorted(matches, key=_rank)


def build_search_query(entity: str, e164: str, excluded_statuses: Sequence[str]) -> str:
    """One Lucene query for `search/{entity}`: any phone field holds any variant, live records only."""
    fields = _phone_fields(entity)
    clauses = " OR ".join(f"{field}:{variant}" for variant in search_variants(e164) for field in fields)
    # the same shape RingCentral's Bullhorn integration runs in production: `A AND B NOT C`
    query = f"({clauses}) AND isDeleted:false"
    for status in excluded_statuses:
        if status.strip():
            query += f" NOT status:{_quote(status.strip())}"
    return query


def verify_and_rank(
    e164: str,
    results: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    default_region: str,
    excluded_statuses: Sequence[str],
) -> list[Match]:
    """The records that truly hold `e164`, each once with its best field, best first.

    The search only narrows: its tokens can hit the same digits in another country or another
    grouping, and it cannot be trusted to have filtered deleted or excluded records. A value holds
    the number by `holds_number` (DESIGN §9: read in the default region, else in the caller's own).
    """
    excluded = {status.strip().casefold() for status in excluded_statuses if status.strip()}
    # a search page repeats a shared number's text on many records, and a parse costs ~50 µs: a memo
    memo: dict[str, bool] = {}

    def holds(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        known = memo.get(value)
        if known is None:
            known = memo[value] = holds_number(value, e164, default_region)
        return known

    found: dict[tuple[str, int], Match] = {}
    for entity, records in results.items():
        fields = _by_preference(_phone_fields(entity))
        for record in records:
            match = _verify(entity, fields, record, holds, excluded)
            if match is not None and (match.entity, match.id) not in found:
                found[(match.entity, match.id)] = match
    return rank(found.values())


def _verify(
    entity: str,
    fields: Sequence[str],
    record: Mapping[str, Any],
    holds: Callable[[Any], bool],
    excluded: set[str],
) -> Match | None:
    facts = read_record(entity, record)
    if facts is None or not _live(facts, excluded):
        return None
    field = next((name for name in fields if holds(record.get(name))), None)
    return None if field is None else _match(facts, field)


def _live(facts: RecordFacts, excluded: set[str]) -> bool:
    return not facts.is_deleted and (facts.status is None or facts.status.casefold() not in excluded)


def _match(facts: RecordFacts, field: str) -> Match:
    return Match(
        entity=facts.entity,
        id=facts.id,
        name=facts.name,
        owner=facts.owner,
        company=facts.company,
        status=facts.status,
        phone_field=field,
        date_last_modified=facts.date_last_modified,
        is_primary=field in PRIMARY_FIELDS,
    )


def _rank(match: Match) -> tuple[int, int, int, int]:
    entity_rank = ENTITY_ORDER.index(match.entity) if match.entity in ENTITY_ORDER else len(ENTITY_ORDER)
    return (0 if match.is_primary else 1, -match.date_last_modified, entity_rank, match.id)


def _phone_fields(entity: str) -> tuple[str, ...]:
    try:
        return PHONE_FIELDS[entity]
    except KeyError:
        raise ValueError(f"no phone fields known for entity {entity!r}") from None


def _by_preference(fields: tuple[str, ...]) -> list[str]:
    return [name for name in fields if name in PRIMARY_FIELDS] + [name for name in fields if name not in PRIMARY_FIELDS]


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _type_name(kind: Any) -> str:
    return " or ".join("null" if part is type(None) else part.__name__ for part in getattr(kind, "__args__", (kind,)))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _person(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    return _text(" ".join(part for part in (_text(value.get("firstName")), _text(value.get("lastName"))) if part))


def _name(record: Mapping[str, Any]) -> str | None:
    return _text(record.get("name")) or _person(record)


def _company(record: Mapping[str, Any]) -> str | None:
    corporation = record.get("clientCorporation")
    if isinstance(corporation, Mapping) and _text(corporation.get("name")):
        return _text(corporation.get("name"))
    return _text(record.get("companyName"))
