"""The `worker` process: `python -m insight.worker.runner` drains the durable sync queue (DESIGN §6).

Several calls are in flight at once; the Bullhorn client holds every request it sends (the index
keeper's too) to `CALLBRIDGE_BULLHORN_CONCURRENCY` slots. Each call's final state write is shielded from
cancellation; a worker killed mid-call leaves a lease that runs out, and any worker then takes the
call over (the note's write intent makes that safe). A live worker renews the leases of its calls in
flight, and never starts a second sync of a call it is still syncing. SIGTERM stops claiming and
lets the calls in flight finish. The loop itself is `insight.worker.drain`, shared with the message worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

import anyio.to_thread

from insight.domain.retry_policy import RetryPolicy
from insight.lookup.service import LookupService
from insight.store import Store, queue
from insight.store.queue import ClaimedCall, Finish
from insight.store.tables import utcnow
from insight.upstream.bullhorn.client import BullhornClient
from insight.worker.ai_notes import InsightApi
from insight.worker.authors import AuthorDirectory
from insight.worker.drain import Drain, settle
from insight.worker.job_link import JobLinker
from insight.worker.note_writer import LeaseLost
from insight.worker.sync import CallSyncer
from shared.settings import Settings
from shared.states import SyncState

log = logging.getLogger("callbridge.worker")

POLL_DELAY_S = 0.5
OUTCOMES = ("synced", "retrying", "failed", "unmatched", "dead", "skipped")


class Worker:
    """Claims due calls, syncs them, records the outcome.

    :param store: the queue lives in its `calls` table.
    :param bullhorn: the client, which keeps its requests within `CALLBRIDGE_BULLHORN_CONCURRENCY`.
    :param policy: retries and the `dead` limit (default: `CALLBRIDGE_MAX_ATTEMPTS`).
    :param clock: "now" for due times and leases (tests move it forward).
    :param aircall: fetches AI insights that arrived without their content (None: they are left out).
    :param calls_in_flight: calls synced at once (default: twice the Bullhorn concurrency, as each call
        spends part of its time in the store).
    """

    def __init__(self, *, store: Store, bullhorn: BullhornClient, settings: Settings,
                 policy: RetryPolicy | None = None, worker_id: str | None = None,
                 clock: Callable[[], datetime] = utcnow, calls_in_flight: int | None = None,
                 aircall: InsightApi | None = None) -> None:
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.policy = policy or RetryPolicy(max_attempts=settings.max_attempts)
        self.lookup = LookupService(bullhorn, default_region=settings.default_region,
                                    excluded_statuses=settings.excluded_statuses, ttl_s=settings.cache_ttl_s,
                                    negative_ttl_s=settings.negative_ttl_s)
        self.authors = AuthorDirectory(bullhorn, api_username=settings.bullhorn_username,
                                       default_user_id=settings.bullhorn_default_user_id)
        self._store = store
        self._clock = clock
        #: how long a claim lasts unless renewed (every third of it, while the call is in flight): the
        #: time a killed worker's calls wait before another worker takes them over
        self._lease_s = settings.worker_lease_s
        self._syncer = CallSyncer(engine=store.engine, bullhorn=bullhorn, lookup=self.lookup, authors=self.authors,
                                  settings=settings, worker_id=self.worker_id, clock=clock, aircall=aircall,
                                  jobs=JobLinker(bullhorn, enabled=settings.link_job, clock=clock))
        self._drain = Drain(name=f"worker {self.worker_id}", claim=self._claim, key=lambda claim: claim.call_id,
                            extend=self._extend, process=self._process, lease_s=self._lease_s,
                            in_flight=calls_in_flight or 2 * settings.bullhorn_concurrency, clock=clock)

    async def run_once(self) -> dict[str, int]:
        """Sync everything due now (and whatever becomes due meanwhile), then return the outcome counts."""
        counts = dict.fromkeys(OUTCOMES, 0)
        await self._drain.drain(counts, stop=None)
        return counts

    async def run(self, stop: asyncio.Event, *, poll_delay_s: float = POLL_DELAY_S) -> None:
        """Poll until `stop` is set; calls already claimed are finished first."""
        counts = dict.fromkeys(OUTCOMES, 0)
        await self._drain.run(stop, counts, poll_delay_s=poll_delay_s)
        log.info("worker %s stopped: %s", self.worker_id, counts)

    def _claim(self, now: datetime, limit: int) -> list[ClaimedCall]:
        return queue.claim_due(self._store.engine, worker_id=self.worker_id, now=now, lease_s=self._lease_s,
                               limit=limit)

    def _extend(self, call_ids: Sequence[int], until: datetime) -> int:
        return queue.extend_leases(self._store.engine, call_ids, worker_id=self.worker_id, until=until)

    async def _process(self, claim: ClaimedCall) -> str:
        try:
            outcome = await self._syncer.sync(claim)
        except LeaseLost:
            log.warning("call %s was taken over by another worker; left to it", claim.call_id)
            return "skipped"
        except Exception as error:  # a bug must not stop the worker; the call is retried, then dead
            log.exception("syncing call %s failed unexpectedly", claim.call_id)
            outcome = Finish(SyncState.retrying, f"callbridge failed unexpectedly ({type(error).__name__}); "
                                                 "it will be retried, and a bug report helps")
            await self._record_failure(claim, error, outcome.explanation)
        label, result = settle(self.policy, claim.attempt_count, outcome, self._clock())
        try:
            finished = await self._finish(claim, result)
        except Exception as error:  # the store refused the outcome itself: the call must not stay `syncing`
            log.exception("storing the outcome of call %s failed", claim.call_id)
            explanation = (f"callbridge could not store this call's outcome ({type(error).__name__}); "
                           "it is kept aside for a person's Retry, and a bug report helps")
            await self._record_failure(claim, error, explanation)
            label, result = "failed", Finish(SyncState.failed, explanation=explanation,
                                             attempt_count=claim.attempt_count + 1)
            finished = await self._finish(claim, result)
        return label if finished else "skipped"

    async def _finish(self, claim: ClaimedCall, result: Finish) -> bool:
        return await asyncio.shield(anyio.to_thread.run_sync(lambda: queue.finish(
            self._store.engine, claim.call_id, worker_id=self.worker_id, snapshot_event_id=claim.last_event_id,
            result=result)))

    async def _record_failure(self, claim: ClaimedCall, error: Exception, explanation: str | None) -> None:
        started_at = self._clock()
        await anyio.to_thread.run_sync(lambda: queue.record_attempt(
            self._store.engine, claim.call_id, kind="sync", started_at=started_at, outcome="error",
            error=f"{type(error).__name__}: {error}"[:1000], explanation=explanation))
