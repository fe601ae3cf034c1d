from __future__ import annotations

import pytest

from insight.store import Store
from insight.store.usage import add_usage, flush_usage, month_usage

pytestmark = pytest.mark.anyio


def test_counts_added_by_several_processes_sum_per_month_and_purpose(store: Store) -> None:
    add_usage(store.engine, {("2026-12", "lookup"): 5, ("2026-12", "note"): 2})
    add_usage(store.engine, {("2026-12", "lookup"): 3, ("2026-11", "lookup"): 7})
    assert month_usage(store.engine, "2026-12") == {"lookup": 8, "note": 2}
    assert month_usage(store.engine, "2026-11") == {"lookup": 7}
    assert month_usage(store.engine, "2027-01") == {}


async def test_a_flush_that_cannot_write_gives_the_counts_back(store: Store) -> None:
    given_back: list[dict[tuple[str, str], int]] = []
    store.dispose()
    store.engine.pool.dispose()
    # a store whose tables are gone: the write fails, the counts must survive for the next flush
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE bullhorn_usage")
    await flush_usage(store.engine, lambda: {("2026-12", "note"): 4}, given_back.append)
    assert given_back == [{("2026-12", "note"): 4}]
