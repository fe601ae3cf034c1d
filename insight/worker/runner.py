"""The `worker` process: `python -m insight.worker.runner` drains the durable sync queue (DESIGN §6).

Several calls are in flight at once; the Bullhorn client holds every request it sends (the index
keeper's too) to `CALLBRIDGE_BULLHORN_CONCURRENCY` slots. Each call's final state write is shielded from
cancellation; a worker killed mid-call leaves a lease that runs out, and any worker then takes the
call over (the note's write intent makes that safe). A live worker renews the leases of its calls in
flight, and never starts a second sync of a call it is still syncing. SIGTERM stops claiming and
lets the calls in flight finish.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import anyio.to_thread

from insight.domain.retry_policy import GiveUp, RetryPolicy
from insight.lookup.service import LookupService
from insight.store import Store, queue
from insight.store.queue import ClaimedCall, Finish
from insight.store.tables import utcnow
from insight.upstream.bullhorn.client import BullhornClient
from insight.worker.authors import AuthorDirectory
from insight.worker.job_link import JobLinker
from insight.worker.note_writer import LeaseLost
from insight.worker.sync import CallSyncer
from shared.settings import Settings
from shared.states import SyncState

log = logging.getLogger("callbridge.worker")

POLL_DELAY_S = 0.5
#: how long SIGTERM waits for the calls in flight before cancelling them
GRACE_S = 30.0
OUTCOMES = ("synced", "retrying", "failed", "unmatched", "dead", "skipped")


class Worker:
    """Claims due calls, syncs them, records the outcome.

    :param store: the queue lives in its `calls` table.
    :param bullhorn: the client, which keeps its requests within `CALLBRIDGE_BULLHORN_CONCURRENCY`.
    :param policy: retries and the `dead` limit (default: `CALLBRIDGE_MAX_ATTEMPTS`).
    :param clock: "now" for due times and leases (tests move it forward).
    :param calls_in_flight: calls synced at once (default: twice the Bullhorn concurrency, as each call
        spends part of its time in the store).
    """

    def __init__(self, *, store: Store, bullhorn: BullhornClient, settings: Settings,
                 policy: RetryPolicy | None = None, worker_id: str | None = None,
                 clock: Callable[[], datetime] = utcnow, calls_in_flight: int | None = None) -> None:
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
        self._in_flight = calls_in_flight or 2 * settings.bullhorn_concurrency
        #: calls this worker is syncing right now (their leases are renewed, never claimed twice)
        self._syncing: set[int] = set()
        self._syncer = CallSyncer(engine=store.engine, bullhorn=bullhorn, lookup=self.lookup, authors=self.authors,
                                  settings=settings, worker_id=self.worker_id, clock=clock,
                                  jobs=JobLinker(bullhorn, enabled=settings.link_job, clock=clock))

    async def run_once(self) -> dict[str, int]:
        """Sync everything due now (and whatever becomes due meanwhile), then return the outcome counts."""
        counts = dict.fromkeys(OUTCOMES, 0)
        await self._drain(counts, stop=None)
        return counts

    async def run(self, stop: asyncio.Event, *, poll_delay_s: float = POLL_DELAY_S) -> None:
        """Poll until `stop` is set; calls already claimed are finished first."""
        counts = dict.fromkeys(OUTCOMES, 0)
        while not stop.is_set():
            try:
                claimed = await self._drain(counts, stop=stop)
            except Exception:  # the database restarting must not end the process; poll again shortly
                log.exception("worker %s could not drain the queue", self.worker_id)
                claimed = False
            if not claimed:
                try:
                    await asyncio.wait_for(stop.wait(), poll_delay_s)
                except TimeoutError:
                    pass
        log.info("worker %s stopped: %s", self.worker_id, counts)

    async def _drain(self, counts: dict[str, int], *, stop: asyncio.Event | None) -> bool:
        """Keep `calls_in_flight` calls going while any is due; True when at least one was claimed."""
        tasks: set[asyncio.Task[None]] = set()
        claimed_any = False
        renewer = asyncio.create_task(self._keep_leases())
        try:
            while stop is None or not stop.is_set():
                free = self._in_flight - len(tasks)
                claims = await self._claim(free) if free > 0 else []
                # a call still being synced here whose lease ran out anyway (renewal failed): the claim
                # renewed its lease, and the sync in flight finishes it; a second sync could write twice
                claims = [claim for claim in claims if claim.call_id not in self._syncing]
                self._syncing.update(claim.call_id for claim in claims)
                claimed_any |= bool(claims)
                tasks.update(asyncio.create_task(self._process(claim, counts)) for claim in claims)
                if not tasks:
                    break
                if free > len(claims) or not claims:
                    # nothing more is due right now: wait for a call to finish before asking again
                    _done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    tasks = set(tasks)
            if tasks:
                _done, pending = await asyncio.wait(tasks, timeout=GRACE_S)
                for task in pending:
                    task.cancel()
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        finally:
            renewer.cancel()
        return claimed_any

    async def _keep_leases(self) -> None:
        """Every third of a lease, extend the leases of the calls in flight, so no live call is taken over."""
        while True:
            await asyncio.sleep(self._lease_s / 3)
            ids = sorted(self._syncing)
            until = self._clock() + timedelta(seconds=self._lease_s)
            try:
                await anyio.to_thread.run_sync(functools.partial(
                    queue.extend_leases, self._store.engine, ids, worker_id=self.worker_id, until=until))
            except Exception:  # the database restarting: try again at the next tick
                log.warning("worker %s could not renew its leases", self.worker_id, exc_info=True)

    async def _claim(self, limit: int) -> list[ClaimedCall]:
        now = self._clock()
        return await anyio.to_thread.run_sync(lambda: queue.claim_due(
            self._store.engine, worker_id=self.worker_id, now=now, lease_s=self._lease_s, limit=limit))

    async def _process(self, claim: ClaimedCall, counts: dict[str, int]) -> None:
        try:
            await self._sync_and_finish(claim, counts)
        finally:
            self._syncing.discard(claim.call_id)

    async def _sync_and_finish(self, claim: ClaimedCall, counts: dict[str, int]) -> None:
        try:
            outcome = await self._syncer.sync(claim)
        except LeaseLost:
            log.warning("call %s was taken over by another worker; left to it", claim.call_id)
            counts["skipped"] += 1
            return
        except Exception as error:  # a bug must not stop the worker; the call is retried, then dead
            log.exception("syncing call %s failed unexpectedly", claim.call_id)
            outcome = Finish(SyncState.retrying, f"callbridge failed unexpectedly ({type(error).__name__}); "
                                                 "it will be retried, and a bug report helps")
            await self._record_failure(claim, error, outcome.explanation)
        label, result = self._finish_of(claim, outcome)
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
        counts[label if finished else "skipped"] += 1

    async def _finish(self, claim: ClaimedCall, result: Finish) -> bool:
        return await asyncio.shield(anyio.to_thread.run_sync(lambda: queue.finish(
            self._store.engine, claim.call_id, worker_id=self.worker_id, snapshot_event_id=claim.last_event_id,
            result=result)))

    async def _record_failure(self, claim: ClaimedCall, error: Exception, explanation: str | None) -> None:
        started_at = self._clock()
        await anyio.to_thread.run_sync(lambda: queue.record_attempt(
            self._store.engine, claim.call_id, kind="sync", started_at=started_at, outcome="error",
            error=f"{type(error).__name__}: {error}"[:1000], explanation=explanation))

    def _finish_of(self, claim: ClaimedCall, outcome: Finish) -> tuple[str, Finish]:
        if outcome.status is SyncState.pending:
            return "skipped", replace(outcome, attempt_count=claim.attempt_count)
        if outcome.status is not SyncState.retrying:
            attempts = claim.attempt_count + 1 if outcome.status is SyncState.failed else 0
            return outcome.status.value, replace(outcome, attempt_count=attempts)
        attempt = claim.attempt_count + 1
        step = self.policy.next_step(attempt, retry_after_s=outcome.retry_after_s)
        if isinstance(step, GiveUp):
            return "dead", replace(outcome, status=SyncState.dead, attempt_count=attempt,
                                   explanation=f"Gave up after {attempt} attempts; the last one: {outcome.explanation}")
        due = self._clock() + timedelta(seconds=step.delay_s)
        return "retrying", replace(outcome, next_attempt_at=due, attempt_count=attempt)
