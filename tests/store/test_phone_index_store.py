from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from insight.domain.index_records import INDEXED_ENTITIES, IndexedPhone, IndexEntry
from insight.domain.matching import RecordFacts
from insight.store import Store
from insight.store.phone_index import PhoneIndex
from insight.store.tables import utcnow
from tests.index_kit import build, keeper_for, key, source_for
from tests.stack import demo_data, running_stack

T0 = utcnow()


def _entry(record_id: int, *numbers: tuple[str, str], entity: str = "Candidate", deleted: bool = False) -> IndexEntry:
    return IndexEntry(RecordFacts(entity, record_id, f"Person {record_id}", "Grace Hopper", "Acme", "Active",
                                  record_id, deleted),
                      {name: e164 for name, e164 in numbers},
                      tuple(IndexedPhone(name, e164, name in ("phone", "mobile")) for name, e164 in numbers))


def _scan(index: PhoneIndex) -> int:
    return index.start_scan(INDEXED_ENTITIES, subscription_id="sub", last_request_id=0, now=T0)


def test_a_saved_page_is_found_by_number_as_the_records_saved_with_all_their_numbers(store: Store) -> None:
    index = PhoneIndex(store.engine)
    scan = _scan(index)
    holder = _entry(1, ("mobile", "+14155550123"), ("phone", "+14155550100"), ("phone3", "+14155550123"))

    saved = index.save_page("Candidate", scan, [holder, _entry(2, ("phone", "+442079460958"))],
                            cursor=2, total=2, done=False, now=T0)

    assert saved and index.find("+14155550123") == [holder]
    assert index.progress()["Candidate"].cursor == 2
    assert index.counts() == (2, 4)


def test_writing_a_record_again_replaces_its_phones(store: Store) -> None:
    index = PhoneIndex(store.engine)
    scan = _scan(index)
    index.save_page("Candidate", scan, [_entry(1, ("mobile", "+14155550123"))], cursor=1, total=1, done=False, now=T0)

    index.apply_events([_entry(1, ("mobile", "+14155550199"))], {}, request_id=1, events=1, newest_event_at=T0,
                       now=T0)

    assert index.find("+14155550123") == []
    assert [entry.facts.id for entry in index.find("+14155550199")] == [1]
    assert index.feed().last_request_id == 1 and index.feed().events_applied == 1


def test_removed_records_disappear_with_their_phones(store: Store) -> None:
    index = PhoneIndex(store.engine)
    scan = _scan(index)
    index.save_page("ClientContact", scan, [_entry(7, ("phone", "+14155550123"), entity="ClientContact")],
                    cursor=7, total=1, done=False, now=T0)

    index.apply_events([], {"ClientContact": [7]}, request_id=3, events=1, newest_event_at=None, now=T0)

    assert index.find("+14155550123") == [] and index.counts() == (0, 0)


def test_a_page_of_an_older_scan_is_refused_once_a_new_scan_began(store: Store) -> None:
    index = PhoneIndex(store.engine)
    old = _scan(index)
    _scan(index)

    saved = index.save_page("Candidate", old, [_entry(1, ("mobile", "+14155550123"))], cursor=1, total=1,
                            done=False, now=T0)

    assert saved is False and index.counts() == (0, 0)


def test_finishing_a_rescan_drops_the_records_only_older_scans_wrote(store: Store) -> None:
    index = PhoneIndex(store.engine)
    first = _scan(index)
    index.save_page("Candidate", first, [_entry(1, ("mobile", "+14155550123")), _entry(2, ("phone", "+14155550124"))],
                    cursor=2, total=2, done=True, now=T0)
    second = _scan(index)

    index.save_page("Candidate", second, [_entry(2, ("phone", "+14155550124"))], cursor=2, total=1, done=True,
                    now=T0)

    assert index.find("+14155550123") == []
    assert [entry.facts.id for entry in index.find("+14155550124")] == [2]
    assert index.progress()["Candidate"].built_at is not None


def test_the_keeper_lease_is_exclusive_until_it_runs_out(store: Store) -> None:
    index = PhoneIndex(store.engine)

    assert index.take_lease("a", now=T0, lease_s=60)
    assert index.take_lease("a", now=T0 + timedelta(seconds=30), lease_s=60)
    assert not index.take_lease("b", now=T0 + timedelta(seconds=60), lease_s=60)
    assert index.take_lease("b", now=T0 + timedelta(seconds=91), lease_s=60)


@pytest.mark.anyio
async def test_the_index_is_built_and_kept_fresh_on_either_database(tmp_path: Path, store_url: str) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "switchboard")
    async with running_stack(tmp_path, database_url=store_url) as stack:
        keeper = keeper_for(stack, page_size=250)
        await build(keeper)
        before = key(await source_for(stack).matches(caller.e164) or ())
        entity, record_id = caller.expected[0]
        answer = await stack.bullhorn_admin.delete(f"/_sandbox/records/{entity}/{record_id}")
        assert answer.status_code == 200

        await keeper.run_once()

        after = key(await source_for(stack).matches(caller.e164) or ())
        assert [item[:2] for item in before] == list(caller.expected)
        assert after == [item for item in before if item[:2] != (entity, record_id)]


def test_a_value_keyed_by_its_national_digits_is_found_with_its_stored_text(store: Store) -> None:
    index = PhoneIndex(store.engine)
    scan = _scan(index)
    london = IndexEntry(RecordFacts("Candidate", 3, "Person 3", None, None, "Active", 3, False),
                        {"phone": "020 7946 0958", "mobile": "(415) 555-0123"},
                        (IndexedPhone("phone", None, True, national="02079460958"),
                         IndexedPhone("mobile", "+14155550123", True)))
    index.save_page("Candidate", scan, [london], cursor=3, total=1, done=False, now=T0)

    [hit] = index.find("+442079460958", ("2079460958", "02079460958", "442079460958"))
    assert (hit.facts, set(hit.numbers)) == (london.facts, set(london.numbers))
    assert hit.phones == {"phone": "020 7946 0958", "mobile": "(415) 555-0123"}
    assert index.find("+442079460958") == []
    assert [found.facts.id for found in index.find("+14155550123", ("4155550123",))] == [3]
