"""Group commit for the web's writes: one writer task per process, one transaction per batch.

Each webhook request hands its event to `IntakeWriter.record` and waits. A single task takes
everything waiting at that moment, writes it in order in one transaction
(`insight.store.intake_batch`) and resolves each request only after that transaction committed.
Under load the batches grow by themselves, so one commit (one fsync) covers many events, and
nothing queues on SQLite's write lock, whose busy handler sleeps in steps of up to 100 ms: the web
has one writer instead of one per request thread.

Insight Card outcomes (`record_card`) are not waited for by anyone on a request's path, so they
ride along: they join the next batch of events, or are written alone once they have waited
`RIDE_ALONG_S`. Written at once, each would be a transaction of its own, and the next ring's event
would queue behind its BEGIN and fsync (measured: the p99 of a warm ring's wait for the writer went
from 0.1 to 4 ms). `flush` writes them now (tests, shutdown).

A caller that must act on what its event recorded before the commit passes `on_written`: it runs
on the loop right after the batch's statements, before COMMIT, and with None once the event is
known not to be stored — also when the request that handed it in has gone away meanwhile. The
card push uses it: the claim is decided once the claiming statement ran (the row stays locked
until COMMIT, so no other transaction can claim it), and the card goes out while the fsync is
under way. If that commit then fails, the event is not acknowledged and comes again; the card
pusher remembers the calls it pushed for.

Only the waits run in a worker thread: BEGIN (on SQLite it may wait for the worker process's
transaction) and COMMIT (the fsync). The statements themselves run on the event loop. In a thread,
every statement hands the GIL over twice (the driver releases it around each SQLite step or
PostgreSQL round trip), and while the loop is busy each hand-back waits up to the interpreter's
5 ms switch interval: measured, a 20-event batch took 4 ms alone and 290 ms beside a busy loop.
On the loop they cost their CPU time and nothing more: a handful of set-based statements per batch
whatever its size, ~0.1 ms per event on SQLite.

If a batch fails, its items are written again one at a time, so one item the store refuses fails
only its own request, and only with `IntakeFailed` — never an acknowledgement of an event that was
not committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.to_thread
from sqlalchemy import Connection, Engine

from insight.store.intake_batch import BatchItem, CardOutcome, EventToRecord, RecordedEvent, begin_batch, write_batch

log = logging.getLogger("callbridge.intake")

#: items per transaction at most: bounds one commit's duration (and the wait of its first request)
MAX_BATCH = 256
#: how long a card outcome waits for a batch of events to join before it is written alone
RIDE_ALONG_S = 0.25

WriteBatch = Callable[[Connection, Sequence[BatchItem]], list[RecordedEvent | None]]
OnWritten = Callable[[RecordedEvent | None], None]


class IntakeFailed(RuntimeError):
    """The item was not stored (an event must then not be acknowledged); the cause is chained."""


@dataclass
class _Entry:
    item: BatchItem
    future: asyncio.Future[RecordedEvent | None]
    on_written: OnWritten | None = None
    #: loop time it was handed in (a rider is due `RIDE_ALONG_S` later)
    since: float = 0.0


class IntakeWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = MAX_BATCH,
        ride_along_s: float = RIDE_ALONG_S,
        write: WriteBatch = write_batch,
    ) -> None:
        self._engine = engine
        self._write_statements = write
        self._max_batch = max_batch
        self._ride_along_s = ride_along_s
        self._pending: list[_Entry] = []
        self._riders: list[_Entry] = []
        self._flushing = False
        self._wakeup = asyncio.Event()
        self._closed = False
        # its own thread token: a burst of store reads in the default thread pool cannot delay a commit
        self._thread = anyio.CapacityLimiter(1)
        #: transactions committed since start
        self.batches = 0

    @property
    def pending(self) -> int:
        """Items waiting for the next transaction."""
        return len(self._pending) + len(self._riders)

    async def record(self, item: EventToRecord, *, on_written: OnWritten | None = None) -> RecordedEvent:
        """Store one event; returns once its batch is committed, raises `IntakeFailed` if it was not.

        `on_written` gets what the event recorded as soon as its batch's statements ran, before the commit
        (again if a failed batch is written once more), or None when it was not stored."""
        result = await self._submit(_Entry(item, self._future(), on_written))
        assert result is not None
        return result

    def record_card(self, outcome: CardOutcome) -> None:
        """Store a card's outcome with the next batch (at most `RIDE_ALONG_S` from now); nobody waits for it."""
        if self._closed:
            log.warning("card outcome of call %s not stored: the intake writer is stopped", outcome.call_id,
                        extra={"call_id": outcome.call_id})
            return
        loop = asyncio.get_running_loop()
        entry = _Entry(outcome, self._future(), since=loop.time())
        entry.future.add_done_callback(_log_rider_failure)
        self._riders.append(entry)
        if len(self._riders) == 1:  # the writer sleeps until this one is due (a later one is due later)
            loop.call_at(entry.since + self._ride_along_s, self._wakeup.set)

    async def flush(self) -> None:
        """Write everything handed in so far, card outcomes included, and wait for it."""
        waiting = [entry.future for entry in (*self._pending, *self._riders)]
        if not waiting:
            return
        self._flushing = True
        self._wakeup.set()
        await asyncio.wait(waiting)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[IntakeWriter]:
        """Runs the writer task; on exit, writes what is still waiting, then stops."""
        task = asyncio.get_running_loop().create_task(self._run())
        try:
            yield self
        finally:
            self._closed = True
            self._wakeup.set()
            await task

    def _future(self) -> asyncio.Future[RecordedEvent | None]:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, entry: _Entry) -> RecordedEvent | None:
        if self._closed:
            raise IntakeFailed("the intake writer is stopped")
        self._pending.append(entry)
        self._wakeup.set()
        return await entry.future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending or self._riders or not self._closed:
            if not self._pending and not self._riders_due(loop.time()):
                await self._sleep()
                continue
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            room = self._max_batch - len(batch)
            batch += self._riders[:room]
            del self._riders[:room]
            if not self._riders:
                self._flushing = False
            try:
                await self._write(batch)
            except Exception as error:  # a bug here must fail these requests, not leave them waiting
                log.exception("intake writer failed on a batch of %d items", len(batch))
                for entry in batch:
                    _failed(entry, error)

    def _riders_due(self, now: float) -> bool:
        return bool(self._riders) and (
            self._closed or self._flushing or now >= self._riders[0].since + self._ride_along_s
        )

    async def _sleep(self) -> None:
        """Until something is handed in or a rider is due (`record_card` sets an alarm for the first)."""
        await self._wakeup.wait()
        self._wakeup.clear()

    async def _write(self, batch: list[_Entry]) -> None:
        try:
            results = await self._transaction(batch)
        except Exception as error:
            if len(batch) == 1:
                item = batch[0].item
                log.warning("%s not stored: %s", _name(item), error, extra={"call_id": item.call_id})
                _failed(batch[0], error)
                return
            log.warning("a batch of %d items failed (%s); writing them one at a time", len(batch), error)
            for entry in batch:
                await self._write([entry])
            return
        self.batches += 1
        for entry, result in zip(batch, results, strict=True):
            _settle(entry.future, result=result)

    async def _transaction(self, batch: Sequence[_Entry]) -> list[RecordedEvent | None]:
        connection = await anyio.to_thread.run_sync(begin_batch, self._engine, limiter=self._thread)
        try:
            results = self._write_statements(connection, [entry.item for entry in batch])
            _written(batch, results)
            await anyio.to_thread.run_sync(connection.commit, limiter=self._thread)
        except BaseException:
            # never back into the pool: after a failed COMMIT, SQLite keeps the transaction open (and
            # with it the write lock), and the connection's next BEGIN would fail
            connection.invalidate()
            raise
        finally:
            connection.close()
        return results


def _written(batch: Sequence[_Entry], results: Sequence[RecordedEvent | None]) -> None:
    for entry, result in zip(batch, results, strict=True):
        if result is not None:
            _tell(entry, result)


def _failed(entry: _Entry, error: Exception) -> None:
    _tell(entry, None)
    _settle(entry.future, error=error)


def _tell(entry: _Entry, result: RecordedEvent | None) -> None:
    if entry.on_written is None:
        return
    try:
        entry.on_written(result)
    except Exception:  # the caller's reaction must not fail the batch it rode in
        log.exception("on_written of %s failed", _name(entry.item))


def _name(item: BatchItem) -> str:
    return f"event {item.dedupe_key}" if isinstance(item, EventToRecord) else f"card outcome of call {item.call_id}"


def _log_rider_failure(future: asyncio.Future[RecordedEvent | None]) -> None:
    # `_write` logged the cause; retrieving it keeps asyncio from reporting it a second time
    if not future.cancelled():
        future.exception()


def _settle(
    future: asyncio.Future[RecordedEvent | None],
    *,
    result: RecordedEvent | None = None,
    error: Exception | None = None,
) -> None:
    # a request that went away (cancelled) no longer waits; its item is stored or not all the same
    if future.done():
        return
    if error is not None:
        failure = IntakeFailed(f"not stored: {type(error).__name__}")
        failure.__cause__ = error
        future.set_exception(failure)
    else:
        future.set_result(result)
