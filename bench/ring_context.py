"""Ring → card with and without the card's context (DESIGN §13), `python -m bench.ring_to_card --context`.

Two runs of the same rings, each on fresh processes and a fresh store: `CALLBRIDGE_CARD_CONTEXT=0`
(the card of DESIGN §3) and `=1` (the default: last contact, colleagues on the line, pipeline). For
each: cold rings (numbers never looked up) and warm rings (the same numbers again), first card
accepted by the Aircall fake; with context also the refreshed card, the one carrying Bullhorn's part
(notes, pipeline), which follows the first when that part was not cached yet.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.processes import free_port, process, sandbox_args, service_env, wait_until_up, web_args
from bench.ring_to_card import AIRCALL_AUTH, percentile, ring_at


def _last_card_ms(http: httpx.Client, sandbox: str, call_id: int, sent_at: float) -> float:
    cards = http.get(f"{sandbox}/aircall/_sandbox/cards", params={"call_id": call_id}, auth=AIRCALL_AUTH).json()
    return (max(float(card["received_at"]) for card in cards["cards"]) - sent_at) * 1000


def measure(numbers: Sequence[str], *, warm: int, latency_ms: float, card_context: bool) -> dict[str, list[float]]:
    sandbox_port, web_port = free_port(), free_port()
    sandbox, web = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{web_port}"
    with tempfile.TemporaryDirectory() as scratch:
        env = service_env(sandbox_url=sandbox, web_url=web, database_url=f"sqlite:///{Path(scratch) / 'bench.db'}")
        env["CALLBRIDGE_CARD_CONTEXT"] = "1" if card_context else "0"
        with process(sandbox_args(sandbox_port, bullhorn_latency_ms=latency_ms)):
            wait_until_up(f"{sandbox}/")
            with process(web_args(web_port), env=env), httpx.Client(timeout=10) as http:
                wait_until_up(f"{web}/healthz")
                http.patch(f"{sandbox}/aircall/_sandbox/config", json={"requests_per_minute": None}, auth=AIRCALL_AUTH)
                if http.get(f"{web}/readyz").json()["status"] != "ready":
                    raise RuntimeError("web is not ready")
                cold = [ring_at(http, web, sandbox, 30_000 + index, raw) for index, raw in enumerate(numbers)]
                warm_rings = [ring_at(http, web, sandbox, 40_000 + index, numbers[index % min(20, len(numbers))])
                              for index in range(warm)]
                time.sleep(1.5)  # the refreshed cards of the last rings
                refreshed = [_last_card_ms(http, sandbox, 30_000 + index, sent_at)
                             for index, (sent_at, _) in enumerate(cold)]
    return {"cold": [ms for _, ms in cold], "warm": [ms for _, ms in warm_rings], "refreshed": refreshed}


def print_comparison(numbers: Sequence[str], *, warm: int, latency_ms: float) -> None:
    without = measure(numbers, warm=warm, latency_ms=latency_ms, card_context=False)
    with_context = measure(numbers, warm=warm, latency_ms=latency_ms, card_context=True)
    print(f"ring -> card with and without context, Bullhorn latency {latency_ms:g} ms "
          "(web under uvicorn, SQLite, sandbox on loopback, live lookups)")
    print(f"{'measure':<44}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}")
    rows = (
        ("cold ring -> card, no context", without["cold"]),
        ("warm ring -> card, no context", without["warm"]),
        ("cold ring -> first card, with context", with_context["cold"]),
        ("warm ring -> card, with context", with_context["warm"]),
        ("cold ring -> last card (context complete)", with_context["refreshed"]),
    )
    for name, values in rows:
        print(f"{name:<44}{len(values):>6}{statistics.median(values):>10.1f}{percentile(values, 0.99):>10.1f}")
