"""Draining a leased queue: the loop shared by the call worker (`runner`) and the message worker (`messages`).

`Drain` keeps up to `in_flight` rows going while any is due, renews the leases of the rows in flight
every third of a lease (so no live sync is taken over), never starts a second sync of a row it is
still syncing, and on stop lets the syncs in flight finish (within `GRACE_S`) before cancelling them.
What a queue's rows are, how they are claimed and synced, is the caller's: `claim`, `extend` and
`process` are injected. `settle` turns a sync's outcome into the row's next state under the retry policy.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import anyio.to_thread

from insight.domain.retry_policy import GiveUp, RetryPolicy
from insight.store.queue import Finish
from shared.states import SyncState

log = logging.getLogger("callbridge.worker")

Row = TypeVar("Row")
#: how long SIGTERM waits for the syncs in flight before cancelling them
GRACE_S = 30.0


class Drain(Generic[Row]):
    """One worker's loop over one queue.

    :param claim: claims up to n due rows for this worker (in a thread: it is blocking store I/O).
    :param extend: pushes the leases of the given row keys to the given time; the rows extended.
    :param process: syncs one claimed row and stores its outcome; the outcome's label for the counts.
    """

    def __init__(self, *, name: str, claim: Callable[[datetime, int], list[Row]], key: Callable[[Row], int],
                 extend: Callable[[Sequence[int], datetime], int], process: Callable[[Row], Awaitable[str]],
                 lease_s: float, in_flight: int, clock: Callable[[], datetime]) -> None:
        self._name = name
        self._claim = claim
        self._key = key
        self._extend = extend
        self._process = process
        self._lease_s = lease_s
        self._in_flight = in_flight
        self._clock = clock
        #: rows this worker is syncing right now (their leases are renewed, never claimed twice)
        self._syncing: set[int] = set()

    async def run(self, stop: asyncio.Event, counts: dict[str, int], *, poll_delay_s: float) -> None:
        """Poll until `stop` is set; rows already claimed are finished first."""
        while not stop.is_set():
            try:
                claimed = await self.drain(counts, stop=stop)
            except Exception:  # the database restarting must not end the process; poll again shortly
                log.exception("%s could not drain its queue", self._name)
                claimed = False
            if not claimed:
                try:
                    await asyncio.wait_for(stop.wait(), poll_delay_s)
                except TimeoutError:
                    pass

    async def drain(self, counts: dict[str, int], *, stop: asyncio.Event | None) -> bool:
        """Keep `in_flight` rows going while any is due; True when at least one was claimed."""
        tasks: set[asyncio.Task[None]] = set()
        claimed_any = False
        renewer = asyncio.create_task(self._keep_leases())
        try:
            while stop is None or not stop.is_set():
                free = self._in_flight - len(tasks)
                claims = await self._claim_some(free) if free > 0 else []
                # a row still being synced here whose lease ran out anyway (renewal failed): the claim
                # renewed its lease, and the sync in flight finishes it; a second sync could write twice
                claims = [claim for claim in claims if self._key(claim) not in self._syncing]
                self._syncing.update(self._key(claim) for claim in claims)
                claimed_any |= bool(claims)
                tasks.update(asyncio.create_task(self._run_one(claim, counts)) for claim in claims)
                if not tasks:
                    break
                if free > len(claims) or not claims:
                    # nothing more is due right now: wait for a sync to finish before asking again
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

    async def _claim_some(self, limit: int) -> list[Row]:
        now = self._clock()
        return await anyio.to_thread.run_sync(lambda: self._claim(now, limit))

    async def _run_one(self, claim: Row, counts: dict[str, int]) -> None:
        try:
            label = await self._process(claim)
            counts[label] = counts.get(label, 0) + 1
        finally:
            self._syncing.discard(self._key(claim))

    async def _keep_leases(self) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            keys = sorted(self._syncing)
            until = self._clock() + timedelta(seconds=self._lease_s)
            try:
                await anyio.to_thread.run_sync(functools.partial(self._extend, keys, until))
            except Exception:  # the database restarting: try again at the next tick
                log.warning("%s could not renew its leases", self._name, exc_info=True)


def settle(policy: RetryPolicy, attempt_count: int, outcome: Finish, now: datetime) -> tuple[str, Finish]:
    """The row's next state after `outcome`, its `attempt_count` so far; and the label it is counted under.

    `retrying` becomes due after the policy's delay, or `dead` once the attempts are spent; `failed`
    counts its attempt (a person's Retry starts afresh); `pending` is not an attempt at all.
    """
    if outcome.status is SyncState.pending:
        return "skipped", replace(outcome, attempt_count=attempt_count)
    if outcome.status is not SyncState.retrying:
        attempts = attempt_count + 1 if outcome.status is SyncState.failed else 0
        return outcome.status.value, replace(outcome, attempt_count=attempts)
    attempt = attempt_count + 1
    step = policy.next_step(attempt, retry_after_s=outcome.retry_after_s)
    if isinstance(step, GiveUp):
        return "dead", replace(outcome, status=SyncState.dead, attempt_count=attempt,
                               explanation=f"Gave up after {attempt} attempts; the last one: {outcome.explanation}")
    return "retrying", replace(outcome, next_attempt_at=now + timedelta(seconds=step.delay_s), attempt_count=attempt)
