"""One connection for short reads on the event loop, where a thread hop costs more than the read.

A read handed to a thread waits for the GIL behind whatever the loop runs (up to the interpreter's
5 ms switch interval): measured on a warm ring, 2–3 ms for the card context's indexed read of
~0.5 ms. On the loop it costs its CPU time only, as the intake writer's statements do. The
connection is the reader's own, checked out of the pool once, in a thread: a read on the loop never
waits for the pool (one that threads emptied would stall every request). A connection that broke is
dropped with the read that found it so, and the next read checks out a new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")


class LoopReader:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._connecting = asyncio.Lock()

    async def read(self, work: Callable[[Connection], T]) -> T:
        """`work` in a transaction of its own on the reader's connection, run on the loop: short reads only."""
        connection = await self._connected()
        try:
            with connection.begin():
                return work(connection)
        except DBAPIError as error:
            if error.connection_invalidated:
                self.close()
            raise

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    async def _connected(self) -> Connection:
        async with self._connecting:
            if self._connection is None or self._connection.closed or self._connection.invalidated:
                self._connection = await anyio.to_thread.run_sync(self._engine.connect)
            return self._connection
