"""The phone index as `web` reads it: ring-time matches, readiness, and progress for the console and /metrics.

The worker's keeper writes the index (`insight.worker.index_keeper`); this side only reads, so the index
is trusted only while it is whole (every entity scanned since the current subscription began) and
fresh (polled within `max_lag_s`); otherwise lookups search Bullhorn live, as without an index.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread
from cachetools import LRUCache
from prometheus_client.core import GaugeMetricFamily, Metric

from insight.domain.index_records import INDEXED_ENTITIES, eta_s, matches_from_index
from insight.domain.matching import Match
from insight.domain.phones import national_keys
from insight.store.loop_reads import LoopReader
from insight.store.phone_index import Feed, PhoneIndex, ScanProgress, find_on
from insight.store.scrape import StoreCollector
from insight.store.tables import utcnow

log = logging.getLogger("callbridge.phone_index")

#: a keeper silent for this long (worker stopped, Bullhorn unreachable) no longer vouches for the
#: index: ten of its default one-minute polls
DEFAULT_MAX_LAG_S = 600.0
#: how long a readiness answer is reused: one store read per second, not one per ring
READY_CHECK_S = 1.0
#: a readiness answer older than this is not used while a new one is read (an idle process waits for it)
STALE_S = 10.0
#: numbers whose index answers are kept (a few bytes each; DESIGN §8: bounded caches)
MEMO_SIZE = 20_000


@dataclass(frozen=True)
class EntityProgress:
    indexed: int
    total: int | None
    done: bool


@dataclass(frozen=True)
class IndexStatus:
    ready: bool
    #: the scan in progress or last completed (0: never built)
    scan: int
    records_indexed: int
    records_total: int | None
    eta_s: float | None
    entities: Mapping[str, EntityProgress]
    subscription_id: str | None
    #: seconds since the keeper last polled Bullhorn's events successfully (None: never)
    lag_s: float | None
    #: events known to wait at Bullhorn: the last read was full, so at least as many more may wait
    #: (Bullhorn does not say how many; 0 once a read came back short)
    events_pending: int
    events_applied: int
    last_event_at: datetime | None
    built_at: datetime | None
    #: why the index is off and lookups search live (event subscriptions refused); None while it is kept
    off_reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        for key in ("last_event_at", "built_at"):
            body[key] = body[key].isoformat() if body[key] else None
        return body


def index_status(feed: Feed, progress: Mapping[str, ScanProgress], *, now: datetime, max_lag_s: float) -> IndexStatus:
    """Records indexed / total / ETA, readiness and lag, from what the store holds."""
    current = {entity: state for entity, state in progress.items() if state.scan == feed.scan}
    whole = feed.subscription_id is not None and all(
        entity in current and current[entity].done for entity in INDEXED_ENTITIES)
    lag_s = (now - feed.last_poll_at).total_seconds() if feed.last_poll_at else None
    indexed = sum(state.indexed for state in current.values())
    totals = [state.total for state in current.values()]
    total = sum(t for t in totals if t is not None) if totals and None not in totals else None
    started = min((state.started_at for state in current.values() if state.started_at), default=None)
    built = [state.built_at for state in current.values()]
    return IndexStatus(
        ready=whole and lag_s is not None and lag_s <= max_lag_s,
        scan=feed.scan,
        records_indexed=indexed,
        records_total=total,
        eta_s=None if whole or started is None else eta_s(indexed, total, (now - started).total_seconds()),
        entities={entity: EntityProgress(state.indexed, state.total, state.done) for entity, state in current.items()},
        subscription_id=feed.subscription_id,
        lag_s=lag_s,
        events_pending=feed.last_batch_size if feed.last_batch_size >= 100 else 0,
        events_applied=feed.events_applied,
        last_event_at=feed.last_event_at,
        built_at=max((b for b in built if b is not None), default=None) if whole else None,
        off_reason=feed.off_reason,
    )


def generation(feed: Feed, progress: Mapping[str, ScanProgress]) -> Hashable:
    """Changes whenever the index's content may have: a new scan or subscription, a page stored, events applied."""
    pages = tuple(sorted((entity, state.scan, state.indexed, state.done) for entity, state in progress.items()))
    return feed.scan, feed.subscription_id, feed.events_applied, feed.last_request_id, pages


@dataclass(frozen=True)
class _Known:
    """What the last store read said: readiness, and the generation the memo's answers belong to."""

    read_at: float
    ready: bool
    generation: Hashable


class IndexSource:
    """What `LookupService` asks before searching Bullhorn: `matches()` is None while the index is not ready.

    A ring must not wait for SQLite in a thread (a hop costs milliseconds while the event loop is
    busy): a number's first ask is one indexed statement read on the loop (`LoopReader`), and the
    answers are kept in memory, for numbers found and not found alike, for as long as the index's
    generation stays what it was when they were read. Readiness and generation are read
    at most once per READY_CHECK_S, in the background once known, so the index's changes (events the
    keeper applies every poll, minutes apart) reach the rings within about a second.
    """

    def __init__(self, index: PhoneIndex, *, default_region: str, excluded_statuses: Sequence[str],
                 max_lag_s: float = DEFAULT_MAX_LAG_S, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = utcnow, memo_size: int = MEMO_SIZE,
                 reads: LoopReader | None = None) -> None:
        self._index = index
        self._reads = reads or LoopReader(index.engine)
        self._region = default_region
        self._excluded = tuple(excluded_statuses)
        self._max_lag_s = max_lag_s
        self._clock = clock
        self._now = now
        self._known: _Known | None = None
        self._checking: asyncio.Task[None] | None = None
        self._memo: LRUCache[str, tuple[Match, ...]] = LRUCache(memo_size)

    def status(self) -> IndexStatus:
        """Blocking (two small reads): for /metrics and the ops API."""
        return index_status(self._index.feed(), self._index.progress(), now=self._now(), max_lag_s=self._max_lag_s)

    async def ready(self) -> bool:
        return (await self._current()).ready

    async def matches(self, e164: str) -> tuple[Match, ...] | None:
        known = await self._current()
        if not known.ready:
            return None
        memo = self._memo.get(e164)
        if memo is not None:
            return memo
        # the caller's E.164, and the digits its number has when written in its own country: the key of
        # a value stored without a country code in which the default region reads no valid number (DESIGN §9)
        keys = national_keys(e164)
        entries = await self._reads.read(lambda connection: find_on(connection, e164, keys))
        found = tuple(matches_from_index(e164, entries, default_region=self._region, excluded_statuses=self._excluded))
        if self._known is not None and self._known.generation == known.generation:
            # read under the generation still current: a newer one has cleared the memo and must not get this
            self._memo[e164] = found
        return found

    def forget(self, e164: str) -> None:
        self._memo.pop(e164, None)

    async def _current(self) -> _Known:
        known = self._known
        if known is None or self._clock() - known.read_at >= STALE_S:
            # nothing known, or too old to answer with while a check runs: wait for the store
            return await self._check()
        if self._clock() - known.read_at >= READY_CHECK_S and self._checking is None:
            self._checking = asyncio.get_running_loop().create_task(self._check_in_background())
        return known

    async def _check_in_background(self) -> None:
        try:
            await self._check()
        except Exception as exc:  # the next lookup reads again, and meets the store's error itself
            log.warning("phone index status unreadable: %s", type(exc).__name__)
        finally:
            self._checking = None

    async def _check(self) -> _Known:
        try:
            feed, progress = await anyio.to_thread.run_sync(lambda: (self._index.feed(), self._index.progress()))
        except BaseException:
            self._known = None
            raise
        status = index_status(feed, progress, now=self._now(), max_lag_s=self._max_lag_s)
        known = _Known(self._clock(), status.ready, generation(feed, progress))
        if self._known is None or self._known.generation != known.generation:
            self._memo.clear()
        self._known = known
        return known


class IndexCollector(StoreCollector):
    """The index's figures for /metrics, read from the store at scrape time."""

    def __init__(self, source: IndexSource) -> None:
        self._source = source

    def read(self) -> Iterator[Metric]:
        status = self._source.status()
        yield _gauge("callbridge_index_ready", "1 when ring-time lookups are answered from the phone index",
                     float(status.ready))
        yield _gauge("callbridge_index_records", "Records stored by the current index scan", status.records_indexed)
        if status.records_total is not None:
            yield _gauge("callbridge_index_records_total", "Records the current scan expects", status.records_total)
        if status.eta_s is not None:
            yield _gauge("callbridge_index_build_eta_seconds", "Estimated time left of the index scan", status.eta_s)
        if status.lag_s is not None:
            yield _gauge("callbridge_index_lag_seconds", "Seconds since Bullhorn events were last polled", status.lag_s)
        yield _gauge("callbridge_index_events_pending", "Events known to wait at Bullhorn (a lower bound)",
                     status.events_pending)
        yield _gauge("callbridge_index_events_applied", "Bullhorn events applied to the index since it was created",
                     status.events_applied)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
