from __future__ import annotations

from datetime import timedelta

from insight.domain.index_records import IndexedPhone, IndexEntry, eta_s, event_work, index_record, matches_from_index
from insight.domain.matching import RecordFacts
from insight.lookup.index_reader import index_status
from insight.store.phone_index import Feed, ScanProgress
from insight.store.tables import utcnow

T0 = utcnow()


def _event(entity_id: int, kind: str, entity: str = "Candidate", stamp: int = 1) -> dict[str, object]:
    return {"entityName": entity, "entityId": entity_id, "entityEventType": kind, "eventTimestamp": stamp,
            "updatedProperties": []}


def test_a_record_is_indexed_under_every_field_holding_a_usable_number() -> None:
    record = {"id": 5, "firstName": "Ada", "lastName": "Lovelace", "phone": "(415) 555-0123",
              "mobile": "+44 (0)20 7946 0958", "workPhone": "not a number", "phone2": "1-800-FLOWERS",
              "owner": {"firstName": "Grace", "lastName": "Hopper"}, "companyName": "Engines", "isDeleted": "false"}

    entry = index_record("Candidate", record, default_region="US")

    assert entry is not None
    facts = entry.facts
    assert (facts.name, facts.owner, facts.company, facts.is_deleted) == ("Ada Lovelace", "Grace Hopper", "Engines",
                                                                          False)
    # a vanity number normalises, but no search could find it, so neither does the index
    assert [(phone.field, phone.e164, phone.is_primary) for phone in entry.numbers] == [
        ("phone", "+14155550123", True), ("mobile", "+442079460958", True)]
    assert entry.phones["workPhone"] == "not a number"


def test_a_record_without_an_id_is_not_indexed() -> None:
    assert index_record("ClientContact", {"phone": "415 555 0123"}, default_region="US") is None


def test_indexed_records_rank_like_a_verified_search_and_drop_deleted_and_excluded_records() -> None:
    number, other = "+14155550123", "+14155550100"

    def entry(record_id: int, fields: set[str], *, status: str = "Active", modified: int = 0,
              deleted: bool = False) -> IndexEntry:
        numbers = tuple(IndexedPhone(name, number if name in fields else other, name in ("phone", "mobile"))
                        for name in ("phone", "mobile", "phone2", "phone3"))
        return IndexEntry(RecordFacts("Candidate", record_id, f"P{record_id}", None, None, status, modified, deleted),
                          {phone.field: phone.e164 or "" for phone in numbers}, numbers)

    entries = [entry(1, {"phone2"}, modified=9), entry(2, {"phone3", "mobile"}, modified=1),
               entry(3, {"phone"}, modified=5), entry(4, {"phone"}, deleted=True),
               entry(5, {"phone"}, status="archived")]

    matches = matches_from_index(number, entries, default_region="US", excluded_statuses=("Archived",))

    assert [(m.id, m.phone_field) for m in matches] == [(3, "phone"), (2, "mobile"), (1, "phone2")]


def test_the_last_event_of_a_record_decides_between_reread_and_removal() -> None:
    work = event_work([_event(1, "INSERTED", stamp=5), _event(1, "DELETED", stamp=7), _event(2, "DELETED"),
                       _event(2, "INSERTED"), _event(3, "UPDATED", entity="ClientContact"), _event(4, "UPDATED",
                                                                                                   entity="Note")])

    assert work.reread == {"Candidate": {2}, "ClientContact": {3}}
    assert work.removed == {"Candidate": {1}}
    assert work.newest_ms == 7


def test_the_eta_follows_the_rate_so_far() -> None:
    assert eta_s(250, 1000, 10.0) == 30.0
    assert eta_s(0, 1000, 10.0) is None
    assert eta_s(10, None, 10.0) is None


def _feed(*, polled: float | None, scan: int = 1, batch: int = 0) -> Feed:
    return Feed("sub", T0, scan, 3, None if polled is None else T0 - timedelta(seconds=polled), None, batch, 40)


def _progress(done: bool, scan: int = 1) -> dict[str, ScanProgress]:
    return {entity: ScanProgress(entity, scan, 9, 10, 10 if done else 20, done, T0 - timedelta(seconds=5),
                                 T0 if done else None) for entity in ("Candidate", "ClientContact")}


def test_the_index_is_ready_only_when_whole_and_recently_polled() -> None:
    assert index_status(_feed(polled=5), _progress(True), now=T0, max_lag_s=60).ready is True
    assert index_status(_feed(polled=61), _progress(True), now=T0, max_lag_s=60).ready is False
    assert index_status(_feed(polled=5), _progress(False), now=T0, max_lag_s=60).ready is False
    assert index_status(_feed(polled=5, scan=2), _progress(True), now=T0, max_lag_s=60).ready is False


def test_the_status_reports_progress_eta_and_a_full_last_read_as_pending_events() -> None:
    status = index_status(_feed(polled=5, batch=100), _progress(False), now=T0, max_lag_s=60)

    assert (status.records_indexed, status.records_total) == (20, 40)
    assert status.eta_s == 5.0
    assert status.events_pending == 100
    assert status.as_json()["entities"]["Candidate"] == {"indexed": 10, "total": 20, "done": False}
