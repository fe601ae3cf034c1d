from __future__ import annotations

from datetime import UTC, datetime, timedelta

from insight.store.ops import SyncTiming
from insight.web.ops_summary import hourly_timeline, latency_figures, percentile

NOW = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)


def _timing(created_min_ago: int, status: str, latency_s: float | None) -> SyncTiming:
    created = NOW - timedelta(minutes=created_min_ago)
    ended = created + timedelta(minutes=2)
    return SyncTiming(
        created_at=created,
        status=status,
        ended_at=ended,
        synced_at=None if latency_s is None else ended + timedelta(seconds=latency_s),
    )


def test_percentiles_are_nearest_rank_so_every_figure_really_happened() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0, 100.0]

    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.95) == 100.0
    assert percentile([], 0.5) is None


def test_latency_counts_only_calls_that_ended_and_synced() -> None:
    timings = [_timing(10, "synced", 30), _timing(20, "synced", 90), _timing(5, "failed", None)]

    assert latency_figures(timings) == {"samples": 2, "p50_s": 30.0, "p95_s": 90.0}


def test_the_timeline_has_every_hour_of_the_window_and_counts_each_call_in_the_hour_it_came() -> None:
    timings = [_timing(10, "synced", 30), _timing(20, "failed", None), _timing(75, "synced", 50)]

    buckets = hourly_timeline(timings, now=NOW, hours=3)

    assert [bucket["hour"] for bucket in buckets] == [
        datetime(2026, 11, 25, 10, tzinfo=UTC),
        datetime(2026, 11, 25, 11, tzinfo=UTC),
        datetime(2026, 11, 25, 12, tzinfo=UTC),
    ]
    assert [(b["calls"], b["synced"], b["failed"]) for b in buckets] == [(0, 0, 0), (1, 1, 0), (2, 1, 1)]
    assert (buckets[0]["latency_p50_s"], buckets[2]["latency_p95_s"]) == (None, 30.0)
