"""The card's context (DESIGN §13) around a lookup's matches, without ever holding the card up.

The store's part (the latest calls with the number, the live ones) is read at once: it is local.
Bullhorn's part (the person's latest notes, the pipeline) is fetched in the background, once per
record per TTL (single flight), started as soon as a card event names the number (`prefetch`); a
card takes what is ready within its wait (0 for the first Aircall card) and says `complete: false`
otherwise, and the card pusher re-pushes once the fetch is done (`settled`). Ranking with context
(the calling agent's own record, then one with an active pipeline) uses only what is known already.

Bullhorn's part is a luxury beside the notes: it spends at most `READS_PER_MINUTE` of this process's
requests (`Allowance`). A record whose fetch would exceed them is not fetched (its card goes without
Bullhorn's part, `complete: false`), so a burst of new callers cannot take the requests the worker's
note writes need, nor the web's CPU the next rings need.

A refused pipeline query (403: the API user lacks the entitlement) leaves the pipeline out, says so
in the log and in the context's `unavailable`, and is not asked again for `REFUSAL_PAUSE_S`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from cachetools import TTLCache
from sqlalchemy.exc import SQLAlchemyError

from insight.domain.allowance import Allowance
from insight.domain.budget import Purpose
from insight.domain.card_context import (
    CardContext,
    CompanyJobs,
    LiveCall,
    PastCall,
    Pipeline,
    has_active_pipeline,
    last_contact,
    on_call_now,
    rank_with_context,
)
from insight.domain.matching import Match
from insight.store.card_context import calls_with_number
from insight.store.loop_reads import LoopReader
from insight.store.tables import utcnow
from insight.upstream.bullhorn.pipeline import (
    PipelineApi,
    read_candidate_pipeline,
    read_company_jobs,
    read_latest_notes,
)
from insight.upstream.errors import UpstreamError, UpstreamRejected
from insight.upstream.meter import metered

log = logging.getLogger("callbridge.context")
T = TypeVar("T")

CACHE_MAXSIZE = 20_000
#: one fetch never runs longer than this (a refreshed card is useless after the call anyway)
FETCH_TIMEOUT_S = 5.0
#: after Bullhorn refused the pipeline query, it is not asked again for this long
REFUSAL_PAUSE_S = 600.0
#: matches whose pipeline is fetched for ranking when a number has several
RANKED_WITH_PIPELINE = 3
DIRECTORY_TTL_S = 600.0
PIPELINE_REFUSED = "pipeline"
#: a fifth of Bullhorn's documented 1,500 requests a minute per company (reference/bullhorn-next.md §6),
#: per web process; a burst of five new callers at once is fetched
READS_PER_MINUTE = 300.0
READS_BURST = 15.0
#: requests one record's fetch costs: its notes and two pipeline reads (a candidate's submissions and
#: placements, a contact's company then its open jobs)
READS_PER_RECORD = 3
#: how often the log says how many fetches were skipped
SKIPPED_LOG_EVERY_S = 60.0


@dataclass(frozen=True)
class Remote:
    """Bullhorn's part of one record's context."""

    notes: tuple[dict[str, Any], ...]
    pipeline: Pipeline | CompanyJobs | None
    #: what could not be read, in words (for `unavailable` and the log)
    problems: tuple[str, ...] = ()
    #: when Bullhorn was read (None: nothing was)
    read_at: datetime | None = None


@dataclass(frozen=True)
class StoreFacts:
    past: list[PastCall]
    live: list[LiveCall]


@dataclass(frozen=True)
class ContextCard:
    """Matches re-ranked with what is known, and the best match's context."""

    matches: tuple[Match, ...]
    context: CardContext
    #: when Bullhorn's part of the best match's context was read (None: not yet)
    read_at: datetime | None = None


class ContextService:
    def __init__(self, bullhorn: PipelineApi, reads: LoopReader, *, ttl_s: float,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] = utcnow,
                 reads_per_minute: float = READS_PER_MINUTE) -> None:
        self._bullhorn = bullhorn
        self._reads = reads
        self._clock = clock
        self._now = now
        self._remote: TTLCache[tuple[str, int], Remote] = TTLCache(CACHE_MAXSIZE, ttl_s, timer=clock)
        self._reads_per_minute = reads_per_minute
        self._allowance = Allowance(reads_per_minute, burst=READS_BURST, clock=clock)
        #: fetches not started because the allowance was spent (since start)
        self.skipped = 0
        self._skipped_logged = (0, float("-inf"))
        self._in_flight: dict[tuple[str, int], asyncio.Task[Remote]] = {}
        self._pipeline_off_until = float("-inf")
        self._owners: dict[str, str] | None = None
        self._owners_at = float("-inf")
        self._owners_task: asyncio.Task[None] | None = None

    @property
    def pipeline_refused(self) -> bool:
        return self._clock() < self._pipeline_off_until

    def prefetch(self, matches: Sequence[Match]) -> None:
        """Start Bullhorn's part for the best few matches (those not cached nor under way)."""
        for match in matches[:RANKED_WITH_PIPELINE]:
            self._start(match)

    async def store_facts(self, e164: str) -> StoreFacts:
        """The store's part: the latest calls with the number and the live ones (read on the loop)."""
        try:
            past, live = await self._reads.read(lambda connection: calls_with_number(connection, e164,
                                                                                      now=self._now()))
            return StoreFacts(past, live)
        except SQLAlchemyError as error:  # context never breaks a card: it goes without this part
            log.warning("card context: the store's calls could not be read (%s)", type(error).__name__,
                        extra={"event": "card_context", "outcome": "store_unavailable"})
            return StoreFacts([], [])

    async def card(self, e164: str | None, matches: Sequence[Match], *, call_id: int | None,
                   agent_email: str | None, wait_s: float, facts: StoreFacts | None = None,
                   fetch: bool = True, read_store: bool = True) -> ContextCard:
        """The matches ranked with context and the best one's context, waiting at most `wait_s` for Bullhorn.

        `facts`: the store's part when the caller read it already (alongside the lookup); without it and
        with `read_store=False` the card goes without it (incomplete: a refresh brings it). `fetch=False`
        starts no Bullhorn read (the first Aircall card: it is sent first, `settled` fetches after)."""
        if e164 is None:
            return ContextCard(tuple(matches), CardContext())
        if fetch:
            self.prefetch(matches)
            self._load_owners_soon()
        if wait_s > 0:
            await self.settled(matches, wait_s)
        store_missing = facts is None and not read_store
        if facts is None:
            facts = await self.store_facts(e164) if read_store else StoreFacts([], [])
        ranked = self._rank(matches, agent_email)
        best = ranked[0] if ranked else None
        cached = self.cached(best) if best is not None else None
        complete = (best is None or cached is not None) and not store_missing
        remote = cached or Remote((), None)
        context = CardContext(
            last_contact=last_contact(facts.past, remote.notes, ringing_call_id=call_id),
            on_call_now=on_call_now(facts.live, ringing_call_id=call_id, agent_email=agent_email),
            pipeline=remote.pipeline,
            complete=complete,
            unavailable=remote.problems,
        )
        return ContextCard(tuple(ranked), context, remote.read_at)

    async def settled(self, matches: Sequence[Match], timeout_s: float = FETCH_TIMEOUT_S) -> bool:
        """Wait until Bullhorn's part of the best few matches (and the agents' names) is fetched or failed,
        at most `timeout_s`; False when none of them is known or on its way (the allowance was spent):
        then nothing Bullhorn says can have come in."""
        self._load_owners_soon()
        tasks: list[asyncio.Task[Any]] = [task for task in map(self._start, matches[:RANKED_WITH_PIPELINE]) if task]
        if self._owners_task is not None and not self._owners_task.done():
            tasks.append(self._owners_task)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
        return bool(tasks) or any(self.cached(match) is not None for match in matches[:RANKED_WITH_PIPELINE])

    async def drain(self) -> None:
        tasks = [*self._in_flight.values(), *([self._owners_task] if self._owners_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def cached(self, match: Match) -> Remote | None:
        return self._remote.get((match.entity, match.id))

    def _rank(self, matches: Sequence[Match], agent_email: str | None) -> list[Match]:
        if len(matches) < 2:
            return list(matches)
        owner = (self._owners or {}).get(agent_email.strip().casefold()) if agent_email else None
        active = {(match.entity, match.id) for match in matches[:RANKED_WITH_PIPELINE]
                  if has_active_pipeline(getattr(self.cached(match), "pipeline", None))}
        head = rank_with_context(matches[:RANKED_WITH_PIPELINE], agent_owner=owner, active=active)
        # past the first few nothing more is known than DESIGN §4's order: they keep it
        return [*head, *matches[RANKED_WITH_PIPELINE:]]

    def _start(self, match: Match) -> asyncio.Task[Remote] | None:
        key = (match.entity, match.id)
        if key in self._remote:
            return None
        task = self._in_flight.get(key)
        if task is None:
            if not self._allowance.take(READS_PER_RECORD):
                self._skip()
                return None
            task = asyncio.get_running_loop().create_task(self._fetch(match))
            self._in_flight[key] = task
            task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return task

    def _skip(self) -> None:
        self.skipped += 1
        logged, at = self._skipped_logged
        if self._clock() - at >= SKIPPED_LOG_EVERY_S:
            log.warning("card context: %d Bullhorn fetches skipped since start (%d since the last report): "
                        "more new callers than %.0f requests a minute allow; their cards go without notes and "
                        "pipeline", self.skipped, self.skipped - logged, self._reads_per_minute,
                        extra={"event": "card_context", "outcome": "skipped"})
            self._skipped_logged = (self.skipped, self._clock())

    async def _fetch(self, match: Match) -> Remote:
        with metered(Purpose.context):
            notes, pipeline = await asyncio.gather(
                self._guarded("notes", read_latest_notes(self._bullhorn, match.entity, match.id)),
                self._pipeline(match),
            )
        problems = tuple(problem for _, problem in (notes, pipeline) if problem)
        remote = Remote(tuple(notes[0] or ()), pipeline[0], problems, read_at=self._now())
        self._remote[(match.entity, match.id)] = remote
        return remote

    async def _pipeline(self, match: Match) -> tuple[Pipeline | CompanyJobs | None, str | None]:
        if self.pipeline_refused:
            return None, "pipeline: Bullhorn refused the pipeline query (see the setup doctor)"
        if match.entity == "Candidate":
            now_ms = int(self._now().timestamp() * 1000)
            return await self._guarded(PIPELINE_REFUSED, read_candidate_pipeline(self._bullhorn, match.id,
                                                                                 now_ms=now_ms))
        if match.entity == "ClientContact":
            return await self._guarded(PIPELINE_REFUSED, read_company_jobs(self._bullhorn, match.id))
        return None, None

    async def _guarded(self, part: str, read: Coroutine[Any, Any, T]) -> tuple[T | None, str | None]:
        try:
            return await asyncio.wait_for(read, FETCH_TIMEOUT_S), None
        except TimeoutError:
            problem = f"{part}: Bullhorn did not answer within {FETCH_TIMEOUT_S:g} s"
        except UpstreamError as error:
            problem = f"{part}: {error.explanation}"
            if part == PIPELINE_REFUSED and isinstance(error, UpstreamRejected) and error.status_code == 403:
                self._pipeline_off_until = self._clock() + REFUSAL_PAUSE_S
                log.warning("Bullhorn refused the pipeline query (403): cards show no pipeline for %.0f s; the API "
                            "user needs read access to JobSubmission, Placement and JobOrder: %s",
                            REFUSAL_PAUSE_S, error.explanation,
                            extra={"event": "card_context", "outcome": "pipeline_refused"})
                return None, problem
        log.warning("card context incomplete: %s", problem, extra={"event": "card_context", "outcome": "partial"})
        return None, problem

    def _load_owners_soon(self) -> None:
        fresh = self._clock() - self._owners_at < DIRECTORY_TTL_S
        if fresh or (self._owners_task is not None and not self._owners_task.done()):
            return
        self._owners_task = asyncio.get_running_loop().create_task(self._load_owners())

    async def _load_owners(self) -> None:
        """Agent e-mail -> the name Bullhorn writes as a record's owner (live CorporateUsers)."""
        try:
            with metered(Purpose.context):
                answer = await self._bullhorn.query("CorporateUser", "isDeleted=false",
                                                    fields="id,email,firstName,lastName,enabled", count=500,
                                                    order_by="id")
        except UpstreamError as error:
            log.warning("agents' Bullhorn names not read (%s): cards rank without ownership", error.explanation)
            self._owners_at = self._clock() - DIRECTORY_TTL_S + 60
            return
        owners: dict[str, str] = {}
        for user in answer.get("data") or []:
            if not isinstance(user, dict) or user.get("enabled") is False or not isinstance(user.get("email"), str):
                continue
            name = " ".join(str(user.get(part) or "").strip() for part in ("firstName", "lastName")).strip()
            if name:
                owners.setdefault(user["email"].strip().casefold(), name)
        self._owners, self._owners_at = owners, self._clock()
