"""Figures for `GET /api/summary`: sync latency percentiles and an hourly timeline, as pure functions.

Sync latency is measured from the call's end (`calls.ended_at`, Aircall's hang-up time) to the
finish of the first note write that succeeded (`attempts.finished_at`): how long after hanging up
a recruiter finds the call in Bullhorn. It includes Aircall's ~30 s `call.ended` delay and any
settle wait, both of which the operator sees too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from insight.store.ops import SyncTiming
from shared.states import SyncState

Bucket = dict[str, object]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every figure is a latency that really happened)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latencies_s(timings: Iterable[SyncTiming]) -> list[float]:
    found = []
    for timing in timings:
        if timing.ended_at is None or timing.synced_at is None:
            continue
        # A write that finished before the recorded end (a clock or reducer oddity) counts as instant.
        found.append(max(0.0, (timing.synced_at - timing.ended_at).total_seconds()))
    return found


def latency_figures(timings: Sequence[SyncTiming]) -> dict[str, float | int | None]:
    values = latencies_s(timings)
    return {
        "samples": len(values),
        "p50_s": _round(percentile(values, 0.50)),
        "p95_s": _round(percentile(values, 0.95)),
    }


def hourly_timeline(timings: Sequence[SyncTiming], *, now: datetime, hours: int) -> list[Bucket]:
    """One bucket per hour of the window (empty hours included), by the hour each call was first seen."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    starts = [end - timedelta(hours=hours - index) for index in range(hours)]
    grouped: dict[datetime, list[SyncTiming]] = {start: [] for start in starts}
    for timing in timings:
        hour = timing.created_at.replace(minute=0, second=0, microsecond=0)
        if hour in grouped:
            grouped[hour].append(timing)
    buckets = []
    for start in starts:
        members = grouped[start]
        values = latencies_s(members)
        bucket: Bucket = {"hour": start, "calls": len(members)}
        bucket.update({state.value: sum(1 for t in members if t.status == state.value) for state in SyncState})
        bucket["latency_p50_s"] = _round(percentile(values, 0.50))
        bucket["latency_p95_s"] = _round(percentile(values, 0.95))
        buckets.append(bucket)
    return buckets


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
