"""The worker's figures for /metrics, read from the store at scrape time.

The worker is another process (or several) without an HTTP server, and everything it does ends in
the store anyway: the queue is the `calls` rows, and every Bullhorn write, reconciliation and fresh
match leaves an `attempts` row. So `web` counts them where they are, at each scrape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Engine

from insight.store import ops
from insight.store.scrape import StoreCollector
from shared.states import SyncState

#: the queue: waiting for a worker, or held by one right now
QUEUE_STATES = (SyncState.pending, SyncState.retrying, SyncState.syncing)
#: attempt kinds the worker records (anything else is counted under "other": labels stay bounded)
ATTEMPT_KINDS = frozenset({"match", "create", "update", "reconcile"})
ATTEMPT_OUTCOMES = frozenset({"ok", "error", "found", "not_found"})


class SyncCollector(StoreCollector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def read(self) -> Iterator[Metric]:
        states = ops.state_counts(self._engine)
        attempts = ops.attempt_counts(self._engine)
        depth = GaugeMetricFamily(
            "callbridge_sync_queue_depth", "Calls waiting for a note write or being written, by state", labels=["state"]
        )
        for state in QUEUE_STATES:
            depth.add_metric([state.value], states.get(state.value, 0))
        yield depth
        outcomes = CounterMetricFamily(
            "callbridge_sync_outcomes", "Note sync attempts recorded in the store, by kind and outcome",
            labels=["kind", "outcome"],
        )
        for (kind, outcome), count in sorted(_bounded(attempts).items()):
            outcomes.add_metric([kind, outcome], count)
        yield outcomes


def _bounded(attempts: dict[tuple[str, str | None], int]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for (kind, outcome), count in attempts.items():
        counts[(kind if kind in ATTEMPT_KINDS else "other", _outcome_label(kind, outcome))] += count
    return counts


def _outcome_label(kind: str, outcome: str | None) -> str:
    if outcome is not None and outcome in ATTEMPT_OUTCOMES:
        return outcome
    if kind == "match" and outcome is not None:
        # the worker records a fresh match as "<n> match(es)" for the ops console
        return "no_match" if outcome.startswith("0 ") else "matched"
    return "other"
