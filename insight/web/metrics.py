"""Prometheus metrics owned by one app (its own registry: tests build many apps per process)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from insight.domain.aircall_events import AI_EVENTS, KNOWN_CALL_EVENTS, MESSAGE_EVENTS
from insight.lookup.service import Lookup

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

#: the `event` label of every event name outside KNOWN_CALL_EVENTS: anyone can post any name, and a
#: label per name would grow /metrics (and Prometheus) without bound (DESIGN §14)
OTHER_EVENT = "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhooks = Counter(
            "callbridge_webhooks_total", "Aircall webhooks received", ["event", "outcome"], registry=self.registry
        )
        self.lookup_seconds = Histogram(
            "callbridge_lookup_seconds",
            "Caller lookup latency (cache or Bullhorn)",
            ["source"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "callbridge_lookup_cache_hits_total",
            "Lookups answered from the in-process or the shared (Redis) cache, or by the same lookup in flight",
            registry=self.registry,
        )
        self.cards = Counter(
            "callbridge_cards_total", "Insight Cards pushed to Aircall by outcome", ["outcome"], registry=self.registry
        )
        self.lookup_cache_entries = Gauge(
            "callbridge_lookup_cache_entries",
            "Entries in the in-process lookup caches (found, not_found) and lookups in flight",
            ["cache"],
            registry=self.registry,
        )
        self.intake_pending = Gauge(
            "callbridge_intake_pending", "Webhook events and card outcomes waiting for the intake writer",
            registry=self.registry,
        )
        self.context_skipped = Gauge(
            "callbridge_card_context_skipped",
            "Cards' Bullhorn context fetches skipped since start: more new callers than the context's share of "
            "Bullhorn requests allows",
            registry=self.registry,
        )

    def watch_lookup_caches(self, sizes: Callable[[], Mapping[str, int]]) -> None:
        """Read the cache sizes at each scrape (`LookupService.cache_sizes`)."""
        for name in ("found", "not_found", "in_flight"):
            self.lookup_cache_entries.labels(cache=name).set_function(partial(_size, sizes, name))

    def webhook(self, *, event: str, outcome: str) -> None:
        label = event if event in KNOWN_CALL_EVENTS or event in MESSAGE_EVENTS or event in AI_EVENTS else OTHER_EVENT
        self.webhooks.labels(event=label, outcome=outcome).inc()

    def lookup_answered(self, found: Lookup, seconds: float) -> None:
        self.lookup_seconds.labels(source=found.source).observe(seconds)
        if found.source == "cache":
            self.cache_hits.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _size(sizes: Callable[[], Mapping[str, int]], name: str) -> float:
    return float(sizes().get(name, 0))
