"""The worker's phone index keeper: builds the index from Bullhorn and keeps it fresh from Bullhorn events.

Order is what makes it lossless: subscribe first, then scan, so anything changed during a scan
arrives as an event. Scans page through every record 500 at a time in a way that skips none
whichever way Bullhorn compares ids (`insight.worker.index_pages`), and each page is stored with
its place in one transaction, so a restarted build continues where it stopped. Events are read at
most 100 at a time and reading purges them, so the store marks each read before it starts and
clears the mark with the batch it applies; a read that failed after Bullhorn purged its batch (a
crash, a lost answer) is read again by requestId. Nothing else is: requestId may advance on empty
polls too (DESIGN §10), so a gap in it means nothing. When a re-read is no longer possible (or the
subscription expired) the keeper subscribes afresh and re-scans. When Bullhorn refuses event
subscriptions (the API user lacks the right), the index is off, says why, and ring-time lookups
search live; the keeper asks again hourly. One keeper works at a time (a lease in the store).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

import anyio.to_thread

from insight.domain.index_records import INDEXED_ENTITIES, IndexEntry, eta_s, event_work, index_record
from insight.domain.matching import SEARCH_FIELDS
from insight.lookup.service import Searcher
from insight.store import Store
from insight.store.phone_index import Feed, PhoneIndex
from insight.store.tables import utcnow
from insight.upstream.errors import UpstreamRejected
from insight.worker.index_pages import ALL_RECORDS, Page, next_page
from shared.settings import Settings

log = logging.getLogger("callbridge.phone_index")

DEFAULT_SUBSCRIPTION_ID = "callbridge-phone-index"
#: new records per scan page: each request also asks the row before (the anchor), 500 in all, Bullhorn's cap
PAGE_SIZE = 499
#: Bullhorn's cap per event read
MAX_EVENTS = 100
#: Bullhorn counts every poll against the tenant's API calls (100,000 a month unless agreed):
#: one a minute is ~43,000 a month. A number the index does not know is still searched live.
DEFAULT_POLL_S = 60.0
#: pages scanned per run_once, so events keep being polled while a long build goes on
PAGES_PER_RUN = 20
#: the wait after a failed round, doubled after each failure in a row up to the poll interval
RETRY_FIRST_S = 5.0
#: longer than any run_once; renewed at the start of each
LEASE_S = 300.0
#: how often an index that is off asks for an event subscription again (a right granted meanwhile)
OFF_RETRY_S = 3600.0


class IndexBullhorn(Searcher, Protocol):
    async def get(self, entity: str, ids: Sequence[int], *, fields: str) -> list[dict[str, Any]]: ...

    async def subscribe_events(self, subscription_id: str, entities: Sequence[str]) -> dict[str, Any]: ...

    async def events(self, subscription_id: str, *, max_events: int = 100,
                     request_id: int | None = None) -> dict[str, Any]: ...

    async def last_event_request_id(self, subscription_id: str) -> int: ...

    async def unsubscribe_events(self, subscription_id: str) -> None: ...


@dataclass
class KeeperRun:
    """What one `run_once` did (the test seam, and what `run_forever` paces itself on)."""

    standby: bool = False
    pages: int = 0
    records: int = 0
    events: int = 0
    rescans: int = 0
    building: bool = False
    #: event subscriptions are refused: nothing was built or refreshed
    off: bool = False


class _SubscriptionLost(Exception):
    pass


class _SubscriptionRefused(Exception):
    pass


class IndexKeeper:
    """Builds and refreshes the index; `run_once()` does one round, `run_forever()` repeats it."""

    def __init__(self, bullhorn: IndexBullhorn, index: PhoneIndex, *, default_region: str,
                 subscription_id: str = DEFAULT_SUBSCRIPTION_ID, page_size: int = PAGE_SIZE,
                 pages_per_run: int = PAGES_PER_RUN, owner: str | None = None, lease_s: float = LEASE_S,
                 now: Callable[[], datetime] = utcnow) -> None:
        self._bullhorn = bullhorn
        self._index = index
        self._region = default_region
        self._subscription_id = subscription_id
        self._page_size = page_size
        self._pages_per_run = pages_per_run
        self._owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._lease_s = lease_s
        self._now = now
        #: while the index is off, when to ask for a subscription again
        self._retry_at: datetime | None = None

    async def run_once(self) -> KeeperRun:
        run = KeeperRun()
        if not await anyio.to_thread.run_sync(lambda: self._index.take_lease(
                self._owner, now=self._now(), lease_s=self._lease_s)):
            run.standby = True
            return run
        feed = await anyio.to_thread.run_sync(self._index.feed)
        if feed.off_reason is not None and self._retry_at is not None and self._now() < self._retry_at:
            run.off = True
            return run
        try:
            try:
                if feed.subscription_id is None:
                    await self._restart(run, "no subscription yet")
                else:
                    await self._refresh(feed, run)
            except _SubscriptionLost as lost:
                log.warning("phone index: %s; subscribing again and re-scanning", lost)
                await self._restart(run, str(lost))
        except _SubscriptionRefused as refused:
            reason = str(refused)
            await anyio.to_thread.run_sync(self._index.turn_off, reason)
            self._retry_at = self._now() + timedelta(seconds=OFF_RETRY_S)
            log.warning("phone index off: %s; asking again in %.0f s", reason, OFF_RETRY_S)
            run.off = True
            return run
        await self._scan(run)
        return run

    async def run_forever(self, *, poll_s: float = DEFAULT_POLL_S, stop: asyncio.Event | None = None,
                          retry_s: float = RETRY_FIRST_S) -> None:
        """Rounds until `stop` is set (or the task is cancelled); then the lease is handed back.

        After a failed round the next comes `retry_s` later, doubling with each failure in a row up to `poll_s`.
        """
        stop = stop or asyncio.Event()
        failures = 0
        try:
            while not stop.is_set():
                try:
                    run = await self.run_once()
                    failures, wait_s = 0, 0 if run.building else poll_s
                except Exception:  # the keeper must outlive a Bullhorn or database outage
                    # sooner than a poll: one timed-out page must not stall a build of thousands for minutes
                    failures += 1
                    wait_s = min(poll_s, retry_s * 2 ** (failures - 1))
                    log.exception("phone index: round failed; next try in %.0f s", wait_s)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait_s)
        finally:
            # a restarted worker takes over at once instead of waiting out the lease
            await asyncio.shield(anyio.to_thread.run_sync(self._index.release_lease, self._owner))

    async def _refresh(self, feed: Feed, run: KeeperRun) -> None:
        subscription = feed.subscription_id
        assert subscription is not None
        last = feed.last_request_id
        if feed.read_pending:
            # Our previous read failed: Bullhorn may have purged its batch without us applying it.
            # We are the only reader, so that read was the subscription's latest.
            with _subscription_call():
                newest = await self._bullhorn.last_event_request_id(subscription)
            if newest > last:
                with _subscription_call():
                    answer = await self._bullhorn.events(subscription, max_events=MAX_EVENTS, request_id=newest)
                log.info("phone index: re-read event batch %d, whose read had failed", newest)
                await self._apply(_events_of(answer), newest, run)
                last = newest
        while True:
            await anyio.to_thread.run_sync(self._index.begin_read)
            with _subscription_call():
                answer = await self._bullhorn.events(subscription, max_events=MAX_EVENTS)
            events = _events_of(answer)
            if not events:
                await anyio.to_thread.run_sync(lambda: self._index.record_poll(now=self._now()))
                return
            request_id = int(answer.get("requestId") or last + 1)
            await self._apply(events, request_id, run)
            last = request_id
            if len(events) < MAX_EVENTS:
                return

    async def _apply(self, events: list[dict[str, Any]], request_id: int, run: KeeperRun) -> None:
        work = event_work(events)
        removed = {entity: set(ids) for entity, ids in work.removed.items()}
        entries: list[IndexEntry] = []
        for entity, ids in work.reread.items():
            records, gone = await self._read(entity, sorted(ids))
            found = [entry for record in records
                     if (entry := index_record(entity, record, default_region=self._region)) is not None]
            # a soft delete may come as an UPDATED naming isDeleted rather than DELETED (DESIGN §10):
            # either way the person leaves the index now
            entries.extend(entry for entry in found if not entry.facts.is_deleted)
            deleted = (entry.facts.id for entry in found if entry.facts.is_deleted)
            removed.setdefault(entity, set()).update(gone, deleted)
        newest = datetime.fromtimestamp(work.newest_ms / 1000, UTC) if work.newest_ms else None
        await anyio.to_thread.run_sync(lambda: self._index.apply_events(
            entries, removed, request_id=request_id, events=len(events), newest_event_at=newest, now=self._now()))
        run.events += len(events)

    async def _read(self, entity: str, ids: list[int]) -> tuple[list[dict[str, Any]], set[int]]:
        """The records still there, and the ids proven gone."""
        records: list[dict[str, Any]] = []
        for start in range(0, len(ids), MAX_EVENTS):
            records += await self._get(entity, ids[start:start + MAX_EVENTS])
        gone: set[int] = set()
        # A multi-id answer leaves out the ids it does not find, and perhaps those past a page it
        # never said it cut (DESIGN §10): only an id that is not found alone is gone.
        for record_id in sorted(set(ids) - {record.get("id") for record in records}):
            found = await self._get(entity, [record_id])
            records += found
            if not found:
                gone.add(record_id)
        return records, gone

    async def _get(self, entity: str, ids: list[int]) -> list[dict[str, Any]]:
        try:
            return await self._bullhorn.get(entity, ids, fields=SEARCH_FIELDS[entity])
        except UpstreamRejected as error:
            if error.status_code != 404:  # 404: none of them exists any more (hard deleted)
                raise
            return []

    async def _restart(self, run: KeeperRun, reason: str) -> None:
        subscription = self._subscription_id
        try:
            await self._bullhorn.unsubscribe_events(subscription)
        except UpstreamRejected:
            pass  # nothing to drop: it expired, or never existed
        try:
            answer = await self._bullhorn.subscribe_events(subscription, INDEXED_ENTITIES)
        except UpstreamRejected as error:
            if error.status_code != 403:
                raise
            raise _SubscriptionRefused(f"{error}; without events the index cannot stay fresh, so ring-time "
                                       "lookups search Bullhorn live until the API user may subscribe") from error
        last = answer.get("lastRequestId")
        scan = await anyio.to_thread.run_sync(lambda: self._index.start_scan(
            INDEXED_ENTITIES, subscription_id=subscription, last_request_id=last if isinstance(last, int) else 0,
            now=self._now()))
        self._retry_at = None
        run.rescans += 1
        totals = {}
        for entity in INDEXED_ENTITIES:
            probe = await self._bullhorn.search(entity, ALL_RECORDS, fields="id", count=1)
            if isinstance(probe.get("total"), int):
                totals[entity] = probe["total"]
        await anyio.to_thread.run_sync(lambda: self._index.set_totals(scan, totals))
        log.info("phone index: subscribed to %s (%s); scan %d of %d records starts", subscription, reason, scan,
                 sum(totals.values()))

    async def _scan(self, run: KeeperRun) -> None:
        progress = await anyio.to_thread.run_sync(self._index.progress)
        for entity in INDEXED_ENTITIES:
            state = progress.get(entity)
            if state is None or state.done:
                continue
            anchor, walked, done = state.cursor, state.indexed, False

            def fetch(walked: int, anchor: int, entity: str = entity) -> asyncio.Task[Page]:
                return asyncio.get_running_loop().create_task(next_page(
                    self._bullhorn, entity, fields=SEARCH_FIELDS[entity], walked=walked, anchor=anchor,
                    page_size=self._page_size))

            coming = fetch(walked, anchor) if run.pages < self._pages_per_run else None
            try:
                while coming is not None:
                    page = await coming
                    anchor, walked, done = page.anchor(anchor), page.walked, page.done
                    # the next page is asked for while this one is stored: Bullhorn's round trip and the
                    # parsing and writing of 500 records overlap (a page saved twice changes nothing)
                    coming = fetch(walked, anchor) if not done and run.pages + 1 < self._pages_per_run else None
                    if not await anyio.to_thread.run_sync(partial(self._save_page, entity, state.scan, page, anchor)):
                        return  # a newer scan began (another keeper re-subscribed): its pages, not ours
                    run.pages, run.records = run.pages + 1, run.records + len(page.rows)
                    eta = eta_s(walked, page.total, (self._now() - (state.started_at or self._now())).total_seconds())
                    log.info("phone index: %s %d/%d indexed%s", entity, walked, page.total,
                             " (done)" if done else f", ETA {eta:.0f} s" if eta is not None else "")
            finally:
                if coming is not None:  # the round failed or a newer scan began: nobody wants that page
                    coming.cancel()
                    await asyncio.gather(coming, return_exceptions=True)
            if not done:
                run.building = True
                return

    def _save_page(self, entity: str, scan: int, page: Page, anchor: int) -> bool:
        entries = [entry for record in page.rows
                   if (entry := index_record(entity, record, default_region=self._region)) is not None]
        # the index holds the people a call may reach: soft-deleted records are walked, not stored
        live = [entry for entry in entries if not entry.facts.is_deleted]
        return self._index.save_page(entity, scan, live, cursor=anchor, walked=page.walked, total=page.total,
                                     done=page.done, now=self._now())


@contextmanager
def _subscription_call() -> Iterator[None]:
    try:
        yield
    except UpstreamRejected as error:
        # Bullhorn answers 4xx for an expired, unknown or purged subscription or batch: the events in
        # between are gone, and only a re-scan can make up for them
        raise _SubscriptionLost(f"event subscription unusable ({error})") from error


def _events_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    events = answer.get("events")
    return [event for event in events if isinstance(event, dict)] if isinstance(events, list) else []


async def run_index_keeper(settings: Settings, store: Store, bullhorn: IndexBullhorn, *,
                           poll_s: float = DEFAULT_POLL_S, stop: asyncio.Event | None = None) -> None:
    """The worker's background task: build the phone index, then keep it fresh, until `stop` or cancelled."""
    keeper = IndexKeeper(bullhorn, PhoneIndex(store.engine), default_region=settings.default_region)
    await keeper.run_forever(poll_s=poll_s, stop=stop)
