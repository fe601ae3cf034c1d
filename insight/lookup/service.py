"""Caller lookup: who in Bullhorn owns this number? Cached, single-flight, both entities at once.

The pure parts (queries, verification, ranking) live in `insight.domain.matching`; this module only
does the I/O around them and owns the caches, which belong to the app object (no module state).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cachetools import TTLCache

from insight.domain.budget import Purpose
from insight.domain.matching import (
    PHONE_FIELDS,
    SEARCH_FIELDS,
    Match,
    MatchJsonError,
    build_search_query,
    verify_and_rank,
)
from insight.upstream.meter import metered
from shared.logs import mask_phone
from shared.timefmt import iso_utc

log = logging.getLogger("callbridge.lookup")

#: one search page is plenty: a number shared by more than this is a switchboard, and the card
#: only shows the best few anyway
SEARCH_COUNT = 50
#: bounded so a flood of distinct numbers cannot grow the process (DESIGN §8: bounded caches)
CACHE_MAXSIZE = 20_000
#: after the shared tier fails, lookups skip it this long: a hung Redis would otherwise cost its
#: socket timeout twice (read, then write) on every cold lookup, on the ring path
SHARED_PAUSE_S = 5.0
SHARED_KEY_PREFIX = "callbridge:lookup:v1:"


class Searcher(Protocol):
    """Bullhorn's Lucene search, as `BullhornClient.search` does it (the keeper's protocol extends this one)."""

    async def search(
        self, entity: str, query: str, *, fields: str, count: int = 20, start: int = 0, sort: str | None = None
    ) -> dict[str, Any]: ...


class IndexLookup(Protocol):
    """The local phone index (`insight.lookup.index_reader.IndexSource`)."""

    async def matches(self, e164: str) -> tuple[Match, ...] | None:
        """The number's matches, or None while the index cannot be trusted (not built, stale)."""
        ...

    def forget(self, e164: str) -> None:
        """Drop what this process remembers of the number's index answer (callbridge changed its records)."""
        ...


class SharedCache(Protocol):
    """The optional tier shared by replicas (Redis)."""

    async def get(self, key: str) -> bytes | str | None: ...

    async def set(self, key: str, value: str, *, ex: int) -> object: ...


@dataclass(frozen=True)
class Lookup:
    e164: str
    matches: tuple[Match, ...]
    cached: bool
    looked_up_at: datetime
    #: "index", "cache" or "bullhorn"
    source: str = "bullhorn"


@dataclass(frozen=True)
class _Entry:
    matches: tuple[Match, ...]
    looked_up_at: datetime


class LookupService:
    def __init__(
        self,
        bullhorn: Searcher,
        *,
        default_region: str,
        excluded_statuses: Sequence[str],
        ttl_s: float,
        negative_ttl_s: float,
        shared: SharedCache | None = None,
        index: IndexLookup | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bullhorn = bullhorn
        self._default_region = default_region
        self._excluded = tuple(excluded_statuses)
        self._ttl_s = ttl_s
        self._negative_ttl_s = negative_ttl_s
        self._shared = shared
        self._index = index
        self._clock = clock
        self._shared_paused_until = float("-inf")
        self._found: TTLCache[str, _Entry] = TTLCache(CACHE_MAXSIZE, ttl_s, timer=clock)
        self._not_found: TTLCache[str, _Entry] = TTLCache(CACHE_MAXSIZE, negative_ttl_s, timer=clock)
        self._in_flight: dict[str, asyncio.Future[_Entry]] = {}

    def cache_sizes(self) -> dict[str, int]:
        return {"found": len(self._found), "not_found": len(self._not_found), "in_flight": len(self._in_flight)}

    def cached(self, e164: str) -> Lookup | None:
        entry = self._found.get(e164) or self._not_found.get(e164)
        return Lookup(e164, entry.matches, True, entry.looked_up_at, "cache") if entry else None

    async def known(self, e164: str) -> Lookup | None:
        """What the phone index and the in-process caches say, never asking Bullhorn; None when only a
        live search (or the shared cache) can tell."""
        indexed = await self._from_index(e164)
        return indexed if indexed is not None else self.cached(e164)

    async def lookup(self, e164: str) -> Lookup:
        # the index, then the caches, then a live search, whose "no match" is then cached for the
        # negative TTL, so an unknown number costs one Bullhorn search per TTL
        hit = await self.known(e164)
        if hit is not None:
            return hit
        flight = self._in_flight.get(e164)
        if flight is not None:
            entry = await asyncio.shield(flight)
            return Lookup(e164, entry.matches, True, entry.looked_up_at, "cache")
        flight = asyncio.get_running_loop().create_future()
        self._in_flight[e164] = flight
        try:
            entry, from_shared = await self._fetch(e164)
        except BaseException as exc:
            flight.set_exception(exc)
            # the waiters re-raise it; this marks it retrieved so asyncio does not warn
            flight.exception()
            raise
        else:
            flight.set_result(entry)
            (self._found if entry.matches else self._not_found)[e164] = entry
            return Lookup(e164, entry.matches, from_shared, entry.looked_up_at, "cache" if from_shared else "bullhorn")
        finally:
            del self._in_flight[e164]

    def forget(self, e164: str) -> None:
        """Drop a number from the local tiers (a re-match must ask Bullhorn again, or the index afresh)."""
        self._found.pop(e164, None)
        self._not_found.pop(e164, None)
        if self._index is not None:
            self._index.forget(e164)

    async def _from_index(self, e164: str) -> Lookup | None:
        if self._index is None:
            return None
        try:
            matches = await self._index.matches(e164)
        except Exception as exc:  # like the shared tier, the index only saves Bullhorn requests
            log.warning("phone index unavailable: %s", type(exc).__name__)
            return None
        if not matches:
            return None
        return Lookup(e164, matches, False, datetime.now(UTC), "index")

    async def _fetch(self, e164: str) -> tuple[_Entry, bool]:
        shared = await self._read_shared(e164)
        if shared is not None:
            return shared, True
        started = time.perf_counter()
        answers = await asyncio.gather(*(self._search(entity, e164) for entity in PHONE_FIELDS))
        matches = verify_and_rank(
            e164,
            dict(zip(PHONE_FIELDS, answers, strict=True)),
            default_region=self._default_region,
            excluded_statuses=self._excluded,
        )
        entry = _Entry(tuple(matches), datetime.now(UTC))
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.info(
            "lookup %s: %d match(es) in %.0f ms",
            mask_phone(e164),
            len(matches),
            elapsed_ms,
            extra={"event": "lookup", "outcome": "match" if matches else "no_match", "duration_ms": round(elapsed_ms)},
        )
        await self._write_shared(e164, entry)
        return entry, False

    async def _search(self, entity: str, e164: str) -> list[dict[str, Any]]:
        query = build_search_query(entity, e164, self._excluded)
        with metered(Purpose.lookup):
            answer = await self._bullhorn.search(entity, query, fields=SEARCH_FIELDS[entity], count=SEARCH_COUNT)
        data = answer.get("data", [])
        return [record for record in data if isinstance(record, dict)]

    def _shared_tier(self) -> SharedCache | None:
        return self._shared if self._clock() >= self._shared_paused_until else None

    def _shared_failed(self, exc: Exception) -> None:
        self._shared_paused_until = self._clock() + SHARED_PAUSE_S
        log.warning(
            "shared lookup cache unavailable (%s): skipped for %.0f s",
            type(exc).__name__,
            SHARED_PAUSE_S,
            extra={"event": "shared_cache", "outcome": "unavailable"},
        )

    async def _read_shared(self, e164: str) -> _Entry | None:
        shared = self._shared_tier()
        if shared is None:
            return None
        try:
            raw = await shared.get(_shared_key(e164))
        except Exception as exc:  # the shared tier is an optimisation: never fail a lookup over it
            self._shared_failed(exc)
            return None
        if raw is None:
            return None
        try:
            payload = json.loads(raw)
            return _Entry(
                tuple(Match.from_json(item) for item in payload["matches"]),
                datetime.fromisoformat(payload["looked_up_at"]),
            )
        except MatchJsonError as error:
            # another version wrote it (SHARED_KEY_PREFIX should have changed with the schema)
            log.warning("shared lookup cache entry for %s unreadable (%s): searched again", mask_phone(e164), error,
                        extra={"event": "shared_cache", "outcome": "unreadable"})
            return None
        except (ValueError, KeyError, TypeError):
            return None

    async def _write_shared(self, e164: str, entry: _Entry) -> None:
        shared = self._shared_tier()
        if shared is None:
            return
        ttl = self._ttl_s if entry.matches else self._negative_ttl_s
        matches = [match.to_json() for match in entry.matches]
        payload = json.dumps({"matches": matches, "looked_up_at": iso_utc(entry.looked_up_at, timespec="microseconds")})
        try:
            await shared.set(_shared_key(e164), payload, ex=max(1, int(ttl)))
        except Exception as exc:  # see _read_shared
            self._shared_failed(exc)


def _shared_key(e164: str) -> str:
    return SHARED_KEY_PREFIX + e164
