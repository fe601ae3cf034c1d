"""Realistic webhook traffic for the benchmarks: many calls in progress at once, some redeliveries.

Calls come from the simulator's seeded mix (`sandbox.call_mix`), with every `call.*` event of
their lifecycles. Aircall's minutes-long lifecycles are compressed: the events of `window` calls
at a time are merged by their offsets, so each call's events arrive in order among many other
calls' events, and a share of events is delivered a second time a little later, as Aircall does.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterator, Sequence
from typing import Any

from sandbox.call_mix import plan_calls
from sandbox.calls import CallScript, ScheduledEvent, final_call, lifecycle
from sandbox.demo_data import build_demo_data

#: average `call.*` events per call in the simulator's mix (measured: 19,161 for 3,000 calls)
EVENTS_PER_CALL = 6.4


def call_scripts(count: int, *, seed: int, started_at: int) -> list[CallScript]:
    return plan_calls(count, seed=seed, callers=build_demo_data().callers, started_at=started_at, mean_gap_s=1.0)


def calls_for_events(events: int) -> int:
    """Enough calls for at least `events` webhooks."""
    return int(events / EVENTS_PER_CALL * 1.1) + 10


def webhook_stream(
    scripts: Sequence[CallScript], *, token: str, redeliver_share: float = 0.05, window: int = 50, seed: int = 0
) -> list[dict[str, Any]]:
    """Every envelope of every call, interleaved `window` calls at a time, with redeliveries."""
    rng = random.Random(seed)
    ordered: list[dict[str, Any]] = []
    for first in range(0, len(scripts), window):
        group = [lifecycle(script, token=token) for script in scripts[first : first + window]]
        ordered.extend(event.envelope for event in heapq.merge(*group, key=_offset))
    stream: list[dict[str, Any]] = []
    later: list[tuple[int, int, dict[str, Any]]] = []
    for position, envelope in enumerate(ordered):
        while later and later[0][0] <= position:
            stream.append(heapq.heappop(later)[2])
        stream.append(envelope)
        if rng.random() < redeliver_share:
            heapq.heappush(later, (position + rng.randint(5, 200), position, envelope))
    stream.extend(envelope for _, _, envelope in sorted(later, key=lambda item: item[:2]))
    return stream


def encoded(envelopes: Sequence[dict[str, Any]]) -> Iterator[bytes]:
    for envelope in envelopes:
        yield json.dumps(envelope, separators=(",", ":")).encode()


def sandbox_calls(scripts: Sequence[CallScript]) -> Iterator[dict[str, Any]]:
    """What the Aircall fake must know for each call, so that card pushes are accepted."""
    for script in scripts:
        yield final_call(script)


def _offset(event: ScheduledEvent) -> int:
    return event.send_at_s
