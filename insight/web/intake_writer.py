"""Group commit for the web's writes: one writer task per process, one transaction per batch.

Each webhook request hands its event to `IntakeWriter.record` and waits. A single task takes
everything waiting at that moment, writes it in order in one transaction
(`insight.store.intake_batch`) and resolves each request only after that transaction committed.
Under load the batches grow by themselves, so one commit (one fsync) covers many events, and
nothing queues on SQLite's write lock, whose busy handler sleeps in steps of up to 100 ms: the web
has one writer instead of one per request thread. Insight Card outcomes (`record_card`, awaited by
`insight.web.card_push` on the loop) join the same batches, for the same reason.

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

import anyio
import anyio.to_thread
from sqlalchemy import Connection, Engine

from insight.store.intake_batch import BatchItem, CardOutcome, EventToRecord, RecordedEvent, begin_batch, write_batch

log = logging.getLogger("callbridge.intake")

#: items per transaction at most: bounds one commit's duration (and the wait of its first request)
MAX_BATCH = 256

WriteBatch = Callable[[Connection, Sequence[BatchItem]], list[RecordedEvent | None]]
_Entry = tuple[BatchItem, "asyncio.Future[RecordedEvent | None]"]


class IntakeFailed(RuntimeError):
    """The item was not stored (an event must then not be acknowledged); the cause is chained."""


class IntakeWriter:
    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH, write: WriteBatch = write_batch) -> None:
        self._engine = engine
        self._write_statements = write
        self._max_batch = max_batch
        self._pending: list[_Entry] = []
        self._wakeup = asyncio.Event()
        self._closed = False
        # its own thread token: a burst of store reads in the default thread pool cannot delay a commit
        self._thread = anyio.CapacityLimiter(1)
        #: transactions committed since start
        self.batches = 0

    @property
    def pending(self) -> int:
        """Items waiting for the next transaction."""
        return len(self._pending)

    async def record(self, item: EventToRecord) -> RecordedEvent:
        """Store one event; returns once its batch is committed, raises `IntakeFailed` if it was not."""
        result = await self._submit(item)
        assert result is not None
        return result

    async def record_card(self, outcome: CardOutcome) -> None:
        await self._submit(outcome)

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

    async def _submit(self, item: BatchItem) -> RecordedEvent | None:
        if self._closed:
            raise IntakeFailed("the intake writer is stopped")
        future: asyncio.Future[RecordedEvent | None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wakeup.set()
        return await future

    async def _run(self) -> None:
        while not (self._closed and not self._pending):
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    await self._write(batch)
                except Exception as error:  # a bug here must fail these requests, not leave them waiting
                    log.exception("intake writer failed on a batch of %d items", len(batch))
                    for _, future in batch:
                        _settle(future, error=error)

    async def _write(self, batch: list[_Entry]) -> None:
        items = [item for item, _ in batch]
        try:
            results = await self._transaction(items)
        except Exception as error:
            if len(batch) == 1:
                log.warning("%s not stored: %s", _name(items[0]), error, extra={"call_id": items[0].call_id})
                _settle(batch[0][1], error=error)
                return
            log.warning("a batch of %d items failed (%s); writing them one at a time", len(batch), error)
            for entry in batch:
                await self._write([entry])
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)


    async def _transaction(self, items: Sequence[BatchItem]) -> list[RecordedEvent | None]:
        connection = await anyio.to_thread.run_sync(begin_batch, self._engine, limiter=self._thread)
        try:
            results = self._write_statements(connection, items)
            await anyio.to_thread.run_sync(connection.commit, limiter=self._thread)
        finally:
            # a rollback after a failure, nothing after a commit: quick enough for the loop
            connection.close()
        return results


def _name(item: BatchItem) -> str:
    return f"event {item.dedupe_key}" if isinstance(item, EventToRecord) else f"card outcome of call {item.call_id}"


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
