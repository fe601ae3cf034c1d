"""The Bullhorn API meter's totals: every process adds its counts, the summary reads the month."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

import anyio.to_thread
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from insight.store.engine import is_sqlite, write_connection
from insight.store.tables import bullhorn_usage

log = logging.getLogger("callbridge.usage")

#: (month "YYYY-MM", purpose) -> requests
Counts = Mapping[tuple[str, str], int]


def add_usage(engine: Engine, counts: Counts) -> None:
    """Adds `counts` to the stored totals (one transaction; concurrent processes add safely)."""
    if not counts:
        return
    insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
    with write_connection(engine) as connection, connection.begin():
        for (month, purpose), requests in sorted(counts.items()):
            statement = insert(bullhorn_usage).values(month=month, purpose=purpose, requests=requests)
            connection.execute(statement.on_conflict_do_update(
                index_elements=["month", "purpose"],
                set_={"requests": bullhorn_usage.c.requests + statement.excluded.requests},
            ))


def month_usage(engine: Engine, month: str) -> dict[str, int]:
    """Requests of one month by purpose."""
    query = select(bullhorn_usage.c.purpose, bullhorn_usage.c.requests).where(bullhorn_usage.c.month == month)
    with engine.connect() as connection:
        return {purpose: int(requests) for purpose, requests in connection.execute(query)}


async def flush_usage(engine: Engine, take: Callable[[], dict[tuple[str, str], int]],
                      give_back: Callable[[dict[tuple[str, str], int]], None]) -> None:
    """Stores what the meter counted since the last flush; a failed write keeps the counts for the next."""
    counts = take()
    try:
        await anyio.to_thread.run_sync(add_usage, engine, counts)
    except SQLAlchemyError:
        give_back(counts)
        log.warning("could not store %d Bullhorn request counts; kept for the next flush", sum(counts.values()))


async def flush_usage_forever(engine: Engine, take: Callable[[], dict[tuple[str, str], int]],
                              give_back: Callable[[dict[tuple[str, str], int]], None], *,
                              interval_s: float = 10.0) -> None:
    """Flushes every `interval_s` until cancelled, then once more (shielded) so nothing counted is lost."""
    try:
        while True:
            await asyncio.sleep(interval_s)
            await flush_usage(engine, take, give_back)
    finally:
        await asyncio.shield(flush_usage(engine, take, give_back))
