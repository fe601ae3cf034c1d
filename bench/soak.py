"""Soak: minutes of mixed traffic against real `web` + `worker` + sandbox; is web's memory flat?

Traffic, all to 127.0.0.1, open loop at fixed rates: full call lifecycles as webhooks (5 %
redelivered; the worker writes their notes to the Bullhorn fake), Insight API reads
(`GET /api/insight?phone=`, half of them numbers never seen before, so the negative cache fills
and expires), and signed card pages (`GET /cards/{id}`, links taken from `GET
/api/calls/{id}/insight`). Prints web's RSS (VmRSS of /proc/<pid>/status) and the cache sizes
from /metrics at the start, every minute and at the end.

    .venv/bin/python -m bench.soak [--minutes 10 | --quick] [--events-per-s 50] [--reads-per-s 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from bench.ingest import TOKEN, register_calls
from bench.processes import ROOT, free_port, process, sandbox_args, service_env, wait_until_up, web_args
from bench.traffic import call_scripts, calls_for_events, webhook_stream
from sandbox.demo_data import build_demo_data

API_KEY = "bench-api-key"
#: the lookup cache, the intake queue and the process's heap, as /metrics shows them
_LABEL = re.compile(r'callbridge_lookup_cache_entries\{cache="(\w+)"\}')
_GAUGES = re.compile(r'^(callbridge_lookup_cache_entries\{cache="\w+"\}|callbridge_intake_pending) (\S+)$', re.M)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def gauges(http: httpx.AsyncClient) -> str:
    text = (await http.get("/metrics")).text
    found = {_LABEL.sub(r"cache_\1", name).replace("callbridge_", ""): value for name, value in _GAUGES.findall(text)}
    return " ".join(f"{name}={float(value):.0f}" for name, value in sorted(found.items()))


Send = Callable[[int], Coroutine[Any, Any, None]]


async def at_rate(per_s: float, until: float, send: Send, limit: int = 64) -> None:
    """Call `send(n)` `per_s` times a second until `until`, at most `limit` at once (beyond: skipped)."""
    tasks: set[asyncio.Task[None]] = set()
    started, sent = time.monotonic(), 0
    while time.monotonic() < until:
        due = int((time.monotonic() - started) * per_s)
        while sent < due:
            if len(tasks) < limit:
                task = asyncio.create_task(send(sent))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.sleep(0.005)
    if tasks:
        await asyncio.wait(tasks, timeout=30)


class Traffic:
    def __init__(self, http: httpx.AsyncClient, envelopes: list[dict[str, Any]], seed: int) -> None:
        self._http = http
        self._envelopes = envelopes
        self._rng = random.Random(seed)
        self._known = [caller.raw_digits for caller in build_demo_data().callers]
        self._calls: list[int] = []
        self.answers: Counter[str] = Counter()

    async def webhook(self, index: int) -> None:
        envelope = self._envelopes[index % len(self._envelopes)]
        await self._send("webhook", "POST", "/webhooks/aircall", json=envelope)
        if envelope["event"] == "call.created":
            self._calls.append(envelope["data"]["id"])

    async def insight_read(self, index: int) -> None:
        if index % 2:
            phone = self._rng.choice(self._known)
        else:  # a number nobody has: a Bullhorn search, then a negative-cache entry that expires
            phone = f"+1 415 555 {self._rng.randint(0, 9999):04d}" if index % 4 else f"+4420794{index:05d}"
        await self._send("insight", "GET", "/api/insight", params={"phone": phone}, headers=self._auth())

    async def card_page(self, index: int) -> None:
        if not self._calls:
            return
        call_id = self._rng.choice(self._calls[-500:])
        answer = await self._send("card json", "GET", f"/api/calls/{call_id}/insight", headers=self._auth())
        link = answer.json().get("card_url") if answer is not None and answer.status_code == 200 else None
        if link:  # CALLBRIDGE_PUBLIC_URL is this web, on 127.0.0.1
            await self._send("card page", "GET", link)

    async def _send(self, kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            answer = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            self.answers[f"{kind} {type(error).__name__}"] += 1
            return None
        self.answers[f"{kind} {answer.status_code}"] += 1
        return answer

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"}


async def soak(web: str, pid: int, args: argparse.Namespace, envelopes: list[dict[str, Any]]) -> None:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=web, limits=limits, timeout=10) as http:
        traffic = Traffic(http, envelopes, seed=1)
        started = time.monotonic()
        until = started + args.minutes * 60
        print(f"{'minute':>6}{'web RSS MiB':>13}  caches")
        samples = [rss_kib(pid)]
        print(f"{0:>6}{samples[0] / 1024:>13.1f}  {await gauges(http)}")
        load = asyncio.gather(
            at_rate(args.events_per_s, until, traffic.webhook),
            at_rate(args.reads_per_s, until, traffic.insight_read),
            at_rate(args.cards_per_s, until, traffic.card_page),
        )
        minute = 1
        while not load.done():
            await asyncio.wait([load], timeout=max(0.0, started + minute * 60 - time.monotonic()))
            if time.monotonic() >= started + minute * 60 or load.done():
                samples.append(rss_kib(pid))
                print(f"{minute:>6}{samples[-1] / 1024:>13.1f}  {await gauges(http)}", flush=True)
                minute += 1
        await load
        start, warm, end = samples[0], samples[min(1, len(samples) - 1)], rss_kib(pid)
        # the first minute fills the pools, caches and lazily loaded modules: growth after it is what leaks
        print(f"web RSS: {start / 1024:.1f} MiB before traffic, {warm / 1024:.1f} MiB after the first minute, "
              f"{end / 1024:.1f} MiB at the end ({(end - warm) / 1024:+.1f} MiB after the first minute)")
        print("answers: " + ", ".join(f"{kind}={count}" for kind, count in sorted(traffic.answers.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="1 minute")
    parser.add_argument("--events-per-s", type=float, default=50.0)
    parser.add_argument("--reads-per-s", type=float, default=20.0)
    parser.add_argument("--cards-per-s", type=float, default=5.0)
    parser.add_argument("--bullhorn-latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    if args.quick:
        args.minutes = 1.0

    events = int(args.events_per_s * args.minutes * 60) + 100
    started_at = int(time.time())
    calls = calls_for_events(events)
    envelopes = webhook_stream(call_scripts(calls, seed=7, started_at=started_at), token=TOKEN)
    sandbox_port, web_port = free_port(), free_port()
    sandbox, web = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{web_port}"
    (ROOT / ".run").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / ".run") as scratch:
        env = service_env(sandbox_url=sandbox, web_url=web, database_url=f"sqlite:///{Path(scratch) / 'soak.db'}")
        with process(sandbox_args(sandbox_port, bullhorn_latency_ms=args.bullhorn_latency_ms)):
            wait_until_up(f"{sandbox}/")
            register_calls(sandbox, started_at, calls)
            with process(web_args(web_port), env=env, log=Path(scratch) / "web.log") as web_process:
                wait_until_up(f"{web}/healthz")
                worker_args = [sys.executable, "-m", "insight.worker"]
                with process(worker_args, env=env, log=Path(scratch) / "worker.log") as worker:
                    time.sleep(3)
                    worker_note = "web + worker" if worker.poll() is None else "web only (the worker exited at start)"
                    print(f"soak: {args.minutes:g} min, {args.events_per_s:g} webhook events/s, "
                          f"{args.reads_per_s:g} insight reads/s, {args.cards_per_s:g} card pages/s; {worker_note}; "
                          f"SQLite; Bullhorn fake at {args.bullhorn_latency_ms:g} ms")
                    asyncio.run(soak(web, web_process.pid, args, envelopes))


if __name__ == "__main__":
    main()
