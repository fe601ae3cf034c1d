"""The phone index's pure parts: a Bullhorn record as index rows, indexed records as matches, events as work.

A record is indexed under keys a caller's number can be looked up by, and what a lookup finds is
verified with the very rule `verify_and_rank` applies to a live search answer (`holds_number`, then
`match_record` for deleted and excluded records, `rank`), so the index answers exactly what a live
search plus verification does, and also finds the stored formats Bullhorn's own index cannot.
The index cannot know a record's country when it is built (DESIGN §9): a value the default region
reads is keyed by its E.164, and one that is no valid number there (`020 7946 0958` on a US tenant)
also by its digits as typed (`index_keys`), which a lookup asks for as the caller's `national_keys`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from insight.domain.matching import PHONE_FIELDS, PRIMARY_FIELDS, Match, RecordFacts, match_record, rank, read_record
from insight.domain.phones import holds_number, index_keys

__all__ = [
    "INDEXED_ENTITIES",
    "EventWork",
    "IndexEntry",
    "IndexedPhone",
    "eta_s",
    "event_work",
    "index_record",
    "matches_from_index",
]

INDEXED_ENTITIES: tuple[str, ...] = tuple(PHONE_FIELDS)


@dataclass(frozen=True)
class IndexedPhone:
    field: str
    #: the number the default region reads in the value, if any
    e164: str | None
    is_primary: bool
    #: the value's digits as typed, when a caller of another country may hold it (`index_keys`)
    national: str | None = None


@dataclass(frozen=True)
class IndexEntry:
    """One record as the index keeps it: its facts, and its phones as stored and as numbers.

    A record, not a match: it is kept whether deleted or excluded, and holds every number it has;
    `matches_from_index` makes the `Match` for one number from it.
    """

    facts: RecordFacts
    #: phone field -> value exactly as stored in Bullhorn
    phones: Mapping[str, str]
    #: the fields holding a usable number
    numbers: tuple[IndexedPhone, ...]


def index_record(entity: str, record: Mapping[str, Any], *, default_region: str) -> IndexEntry | None:
    """The record's card facts and every phone field holding a usable number; None without an id."""
    facts = read_record(entity, record)
    if facts is None:
        return None
    phones = {name: value for name in PHONE_FIELDS[entity] if isinstance(value := record.get(name), str) and value}
    numbers = []
    for name, value in phones.items():
        e164, key = index_keys(value, default_region)
        if e164 is not None or key is not None:
            numbers.append(IndexedPhone(name, e164, name in PRIMARY_FIELDS, national=key))
    return IndexEntry(facts, phones, tuple(numbers))


def matches_from_index(e164: str, entries: Iterable[IndexEntry], *, default_region: str,
                       excluded_statuses: Sequence[str]) -> list[Match]:
    """The indexed records holding `e164` as ranked matches, exactly as `verify_and_rank` makes them from a search.

    A field keyed by E.164 holds the number by construction; one keyed by national digits is only a
    candidate (the same digits are another number in another country), so it is verified (DESIGN §9).
    """
    found = (
        match_record(entry.facts, {phone.field for phone in entry.numbers
                                   if phone.e164 == e164 or holds_number(entry.phones.get(phone.field), e164,
                                                                         default_region)}, excluded_statuses)
        for entry in entries
    )
    return rank(match for match in found if match is not None)


@dataclass(frozen=True)
class EventWork:
    """What a batch of subscription events asks of the index."""

    #: entity -> ids to read again (inserted or updated; the event does not carry the values)
    reread: dict[str, set[int]] = field(default_factory=dict)
    #: entity -> ids to drop (hard deletes)
    removed: dict[str, set[int]] = field(default_factory=dict)
    #: newest eventTimestamp in the batch, epoch ms (0 when none)
    newest_ms: int = 0


def event_work(events: Sequence[Mapping[str, Any]]) -> EventWork:
    """Fold a batch in order: the last event of a record decides whether it is re-read or dropped.

    Every UPDATED is re-read, whatever `updatedProperties` says: dateLastModified moves on any
    edit and it ranks matches, so skipping "irrelevant" updates would let the ranking drift from
    what a live search answers. One multi-id GET per 100 events keeps that cheap.
    """
    reread: dict[str, set[int]] = {}
    removed: dict[str, set[int]] = {}
    newest_ms = 0
    for event in events:
        entity, entity_id, kind = event.get("entityName"), event.get("entityId"), event.get("entityEventType")
        stamp = event.get("eventTimestamp")
        if isinstance(stamp, int) and not isinstance(stamp, bool):
            newest_ms = max(newest_ms, stamp)
        if entity not in PHONE_FIELDS or not isinstance(entity_id, int) or isinstance(entity_id, bool):
            continue
        if kind == "DELETED":
            reread.get(entity, set()).discard(entity_id)
            removed.setdefault(entity, set()).add(entity_id)
        elif kind in ("INSERTED", "UPDATED"):
            removed.get(entity, set()).discard(entity_id)
            reread.setdefault(entity, set()).add(entity_id)
    return EventWork(reread, removed, newest_ms)


def eta_s(indexed: int, total: int | None, elapsed_s: float) -> float | None:
    """Seconds left at the rate so far; None before there is a rate or a total."""
    if total is None or indexed <= 0 or elapsed_s <= 0:
        return None
    return max(0.0, (total - indexed) * elapsed_s / indexed)
