"""Pushes each call's one Insight Card to Aircall, off the webhook's request path.

A card event starts its card at once (`claim`): from what the phone index and the caches know, the
store's part of the context and the card's lines are built while the event's batch is written (a
number only a live search can tell waits for the claim: that work would be lost with it). The
store decides which delivery wins the call's card (one per call across replicas, whatever order
the events arrive in) once the claiming statement ran, before the commit (`IntakeWriter.record`'s
`on_written`); only the winner's card is sent. So a warm ring's card waits for one statement, not for the fsync.

If that commit fails, the event is refused and comes again, and its claim wins again: the pusher
remembers the calls whose claim it won (`WON_FOR_S`), so a redelivery never pushes a second card.
A failed push is retried briefly and its outcome recorded, never blocking anything else.

Once the card has the best match's pipeline from Bullhorn (at the first push when it was cached
already, else once the refresh brought it), the outcome records it with the call
(`match_json["pipeline"]`), so the note's job link reuses this read instead of asking Bullhorn again
(DESIGN §15 Bullhorn spend).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

from cachetools import TTLCache

from insight.domain.card_context import Pipeline, context_json, context_lines
from insight.domain.cards import build_aircall_card
from insight.domain.matching import Match
from insight.domain.phones import display, normalize
from insight.domain.ring_pipeline import RingPipeline, ring_pipeline_json
from insight.lookup.context import ContextCard, ContextService, StoreFacts
from insight.lookup.service import LookupService
from insight.store.intake_batch import CardOutcome
from insight.store.tables import utcnow
from insight.upstream.errors import UpstreamError, UpstreamUnavailable
from insight.web.metrics import Metrics
from shared.logs import log_context

log = logging.getLogger("callbridge.cards")

#: Aircall shows the card while the phone rings: a card later than a few seconds is useless, so
#: retries are short and few
RETRY_DELAYS_S: tuple[float, ...] = (0.25, 1.0, 2.0)
#: a call's claim is remembered this long: redeliveries come within Aircall's retries, minutes apart
WON_FOR_S = 3600.0
REMEMBERED_CALLS = 100_000


class CardSink(Protocol):
    async def push_insight_card(self, call_id: int, contents: list[dict[str, Any]]) -> None: ...


class CardLedger(Protocol):
    """Where outcomes are stored (`IntakeWriter`: they ride along with the webhook events' batches)."""

    def record_card(self, outcome: CardOutcome) -> None: ...


class CardClaim:
    """One card event's stake in its call's card, settled once the store said whether it won."""

    def __init__(self, settle: Callable[[bool], None]) -> None:
        self._settle = settle
        self._settled = False

    def settle(self, won: bool) -> None:
        """The store's answer; only the first one counts (a refused event settles as lost)."""
        if not self._settled:
            self._settled = True
            self._settle(won)


class CardPusher:
    def __init__(
        self,
        *,
        ledger: CardLedger,
        lookup: LookupService,
        aircall: CardSink,
        ui_base_url: Callable[[], Awaitable[str]],
        default_region: str,
        metrics: Metrics,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        context: ContextService | None = None,
    ) -> None:
        self._ledger = ledger
        self._lookup = lookup
        self._aircall = aircall
        self._ui_base_url = ui_base_url
        self._default_region = default_region
        self._metrics = metrics
        self._retry_delays_s = tuple(retry_delays_s)
        self._context = context
        self._tasks: set[asyncio.Task[None]] = set()
        # calls whose card this process started building, and those whose claim it won
        self._started: TTLCache[int, bool] = TTLCache(REMEMBERED_CALLS, WON_FOR_S)
        self._won: TTLCache[int, bool] = TTLCache(REMEMBERED_CALLS, WON_FOR_S)

    def claim(self, call_id: int, raw_digits: str | None, agent_email: str | None = None) -> CardClaim:
        """A card event arrived: build the call's card now, send it if `CardClaim.settle(True)`.

        Only the first card event of a call in this process builds ahead; a later one that wins the
        claim (its predecessors were lost by the store) builds once it won."""
        if call_id in self._started:
            return CardClaim(lambda won: self._won_later(call_id, raw_digits, agent_email, won))
        self._started[call_id] = True
        loop = asyncio.get_running_loop()
        decided: asyncio.Future[bool] = loop.create_future()
        # a turn of the loop later: the event's batch (handed in next by the webhook) then starts its
        # BEGIN first, and the card's lines are built while that waits on its thread
        loop.call_soon(self._spawn, self.push(call_id, raw_digits, agent_email, won=decided))
        return CardClaim(lambda won: decided.set_result(self._first_win(call_id, won)))

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for pushes under way (app shutdown, tests)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    async def push(self, call_id: int, raw_digits: str | None, agent_email: str | None = None,
                   *, won: asyncio.Future[bool] | None = None) -> None:
        """Build the call's card and send it (once `won` says the claim was won, when given)."""
        with log_context(call_id=call_id):
            refresh = await self._push(call_id, raw_digits, agent_email, won=won)
            if refresh is not None:
                await self._refresh(call_id, raw_digits, agent_email, refresh)

    def _won_later(self, call_id: int, raw_digits: str | None, agent_email: str | None, won: bool) -> None:
        if self._first_win(call_id, won):
            self._spawn(self.push(call_id, raw_digits, agent_email))

    def _first_win(self, call_id: int, won: bool) -> bool:
        """True once per call: a claim won again after a failed commit (a redelivery) pushes nothing."""
        if not won or call_id in self._won:
            return False
        self._won[call_id] = True
        return True

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push(self, call_id: int, raw_digits: str | None, agent_email: str | None,
                    previous: list[dict[str, Any]] | None = None,
                    won: asyncio.Future[bool] | None = None) -> list[dict[str, Any]] | None:
        """Push the card; answers its lines when its context is incomplete (a refreshed card may follow)."""
        started = time.perf_counter()
        e164 = normalize(raw_digits, self._default_region) if raw_digits else None
        matches: tuple[Match, ...] = ()
        incomplete = False
        pipeline: dict[str, Any] | None = None
        try:
            facts: StoreFacts | None = None
            if e164 is not None:
                found = await self._lookup.known(e164)
                if found is None:
                    # a live search is no work to do ahead of the claim: it would be lost with it (another
                    # replica's card, a redelivery), and it takes a round trip the claim's wait is nothing to
                    if won is not None and not await won:
                        return None
                    found = await self._lookup.lookup(e164)
                facts = await self._store_facts(e164)
                matches = found.matches
                if previous is None:  # a refresh is no new lookup for the metrics
                    self._metrics.lookup_answered(found, time.perf_counter() - started)
            lines: list[tuple[str, str]] = []
            if self._context is not None:
                # never waits on Bullhorn, and starts its reads only once this card is sent: what is not
                # ready follows in a refreshed card (DESIGN §13)
                ranked = await self._context.card(e164, matches, call_id=call_id, agent_email=agent_email, wait_s=0,
                                                  facts=facts, fetch=False, read_store=previous is not None)
                matches, incomplete = ranked.matches, not ranked.context.complete
                pipeline = self._ring_pipeline(ranked)
                lines = context_lines(context_json(ranked.context), utcnow())
            contents = build_aircall_card(
                display(e164) if e164 else (raw_digits or "anonymous"), matches, ui_base_url=await self._ui_base_url(),
                context=lines,
            )
            if previous is not None and contents == previous:
                if pipeline is not None:  # the card is the same, and what it read is kept all the same
                    self._record(call_id, "pushed", e164, matches, None, pipeline=pipeline, sent=False)
                return None
            if won is not None and not await won:
                return None
            await self._send(call_id, contents)
        except UpstreamError as error:
            if won is not None and not await won:
                return None
            log.warning(
                "card for call %s not pushed: %s", call_id, error, extra=_extra(call_id, "failed", started)
            )
            self._metrics.cards.labels(outcome="failed").inc()
            if previous is None:
                self._record(call_id, "failed", e164, matches, str(error))
            return None
        except Exception as error:  # a background task must record its failure, not vanish
            if won is not None and not await won:
                return None
            log.exception("card for call %s failed unexpectedly", call_id, extra=_extra(call_id, "failed", started))
            self._metrics.cards.labels(outcome="failed").inc()
            if previous is None:
                self._record(call_id, "failed", e164, matches, f"unexpected error: {type(error).__name__}")
            return None
        self._metrics.cards.labels(outcome="pushed").inc()
        log.info(
            "card for call %s pushed in %.0f ms",
            call_id,
            (time.perf_counter() - started) * 1000,
            extra=_extra(call_id, "pushed", started),
        )
        if previous is None or contents[:1] != previous[:1] or pipeline is not None:
            # a refresh re-records only when its best match changed (ranking with context): the note's person,
            # or when it brought that person's pipeline (the first push records it only when it was cached)
            self._record(call_id, "pushed", e164, matches, None, pipeline=pipeline)
        return contents if incomplete else None

    async def _refresh(self, call_id: int, raw_digits: str | None, agent_email: str | None,
                       previous: list[dict[str, Any]]) -> None:
        """Once Bullhorn's part of the context is in, push the card again if it changed (DESIGN §13)."""
        assert self._context is not None
        e164 = normalize(raw_digits, self._default_region) if raw_digits else None
        if e164 is None:
            return
        try:
            waited = await self._context.settled((await self._lookup.lookup(e164)).matches)
        except UpstreamError as error:  # the first card stands; only its refresh is lost
            log.warning("card for call %s not refreshed: %s", call_id, error)
            return
        if waited:  # else no Bullhorn read came in (skipped: the allowance was spent), and the card stands
            await self._push(call_id, raw_digits, agent_email, previous)

    def _ring_pipeline(self, ranked: ContextCard) -> dict[str, Any] | None:
        """The best match's pipeline as the card has it, for the note's job link (a Candidate's only)."""
        pipeline = ranked.context.pipeline
        if not ranked.matches or not isinstance(pipeline, Pipeline) or ranked.read_at is None:
            return None
        best = ranked.matches[0]
        return ring_pipeline_json(RingPipeline(best.entity, best.id, ranked.read_at, pipeline))

    async def _store_facts(self, e164: str) -> StoreFacts | None:
        return await self._context.store_facts(e164) if self._context is not None else None

    async def _send(self, call_id: int, contents: list[dict[str, Any]]) -> None:
        for delay_s in (*self._retry_delays_s, None):
            try:
                await self._aircall.push_insight_card(call_id, contents)
                return
            except UpstreamUnavailable as error:
                if delay_s is None:
                    raise
                wait_s = max(delay_s, min(error.retry_after_s or 0.0, 5.0))
                await asyncio.sleep(wait_s)

    def _record(
        self, call_id: int, status: str, e164: str | None, matches: Sequence[Match], error: str | None,
        *, pipeline: dict[str, Any] | None = None, sent: bool = True,
    ) -> None:
        rows = [match.to_json() for match in matches]
        self._ledger.record_card(
            CardOutcome(call_id=call_id, status=status, phone_e164=e164, matches=rows, error=error,
                        pipeline=pipeline, sent=sent)
        )


def _extra(call_id: int, outcome: str, started: float) -> dict[str, object]:
    duration_ms = round((time.perf_counter() - started) * 1000)
    return {"event": "card_push", "call_id": call_id, "outcome": outcome, "duration_ms": duration_ms}
