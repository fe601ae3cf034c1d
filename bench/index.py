"""Phone index at scale: build time, Bullhorn requests, store size, worker RSS, lookups, cold ring -> card.

Three processes, as in production: the sandbox (`bench.index_sandbox`: both fakes over a tenant of
`--records` people, Bullhorn answering in `--latency-ms` with 500-row pages and its 1,500 requests a
minute), the real worker (`python -m insight.worker`, whose keeper builds the index into SQLite) and,
once the index is built, the real `web` under uvicorn. Requests are counted by the Bullhorn fake;
the worker's RSS is read from /proc while it builds (peak: VmHWM). Lookups are timed from the index
in this process (the store read alone, and `IndexSource.matches` as `web` asks it), then
`call.created` webhooks are sent to `web` for numbers it never saw until the Aircall fake has each card.

    .venv/bin/python -m bench.index [--records 50000] [--latency-ms 80] [--rings 200] [--live 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine

from bench.index_tenant import live_numbers
from bench.processes import free_port, process, sandbox_args, service_env, wait_until_up, web_args
from bench.ring_to_card import AIRCALL_AUTH, percentile, ring, wait_index_ready
from insight.domain.index_records import matches_from_index
from insight.domain.phones import display, national_keys
from insight.lookup.index_reader import IndexSource
from insight.lookup.service import LookupService
from insight.store import Store, StoreVault
from insight.store.phone_index import PhoneIndex
from insight.upstream.bullhorn.client import open_bullhorn
from sandbox.bullhorn import BullhornSandboxConfig, create_bullhorn_app
from sandbox.demo_data import build_demo_data
from shared.settings import load_settings

MIB = 1024 * 1024


@dataclass
class Build:
    """What the monitor saw while the worker built the index."""

    #: (seconds since the worker started, Bullhorn requests the fake had counted)
    requests: list[tuple[float, int]] = field(default_factory=list)
    peak_rss: int = 0
    wall_s: float = 0.0


def rss(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in bytes."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def progress(database: Path) -> list[tuple[str, int, int | None, bool, str | None, str | None]]:
    """The index_state rows (entity, indexed, total, done, started_at, built_at); [] before migration."""
    if not database.exists():
        return []
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            rows = connection.execute(
                "SELECT entity, indexed, total, done, started_at, built_at FROM index_state").fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []
    return [(str(r[0]), int(r[1]), r[2], bool(r[3]), r[4], r[5]) for r in rows]


def bullhorn_requests(http: httpx.Client, sandbox: str) -> dict[str, Any]:
    answer: dict[str, Any] = http.get(f"{sandbox}/bullhorn/_sandbox/requests").json()
    return answer


def busiest_minute(samples: Sequence[tuple[float, int]]) -> int:
    """Most requests in any 60 s window of the samples."""
    best, first = 0, 0
    for last in range(len(samples)):
        while samples[last][0] - samples[first][0] > 60:
            first += 1
        best = max(best, samples[last][1] - samples[first][1])
    return best


def watch_build(http: httpx.Client, sandbox: str, database: Path, worker: subprocess.Popen[bytes], started: float,
                timeout_s: float) -> Build:
    build = Build()
    said, pid = 0.0, worker.pid
    while True:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited ({worker.returncode}) before the index was built: see worker.log")
        elapsed = time.monotonic() - started
        build.requests.append((elapsed, int(bullhorn_requests(http, sandbox)["total"])))
        build.peak_rss = max(build.peak_rss, rss(pid)[1])
        rows = progress(database)
        if len(rows) == 2 and all(row[3] for row in rows):
            build.wall_s = elapsed
            return build
        if elapsed - said >= 30:
            said = elapsed
            done = sum(row[1] for row in rows)
            total = sum(row[2] or 0 for row in rows)
            print(f"  {elapsed:6.0f} s: {done:,}/{total:,} indexed, {build.requests[-1][1]:,} Bullhorn requests, "
                  f"worker RSS {rss(pid)[0] / MIB:.0f} MiB", flush=True)
        if elapsed > timeout_s:
            raise RuntimeError(f"index not built within {timeout_s:g} s: {rows}")
        time.sleep(1.0)


def store_bytes(database: Path) -> tuple[int, int]:
    """(database file, WAL) sizes after a checkpoint."""
    with sqlite3.connect(database, timeout=30) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = database.with_name(database.name + "-wal")
    return database.stat().st_size, wal.stat().st_size if wal.exists() else 0


@dataclass
class Lookups:
    #: PhoneIndex.find and verification, in this thread: the store read itself
    store: list[float] = field(default_factory=list)
    #: IndexSource.matches of a number never asked, as `web` asks it (a thread hop around the same read)
    first: list[float] = field(default_factory=list)
    #: IndexSource.matches of the same numbers again (answered from memory)
    again: list[float] = field(default_factory=list)


async def index_lookups(database_url: str, env: dict[str, str], numbers: Sequence[str]) -> Lookups:
    settings = load_settings(env)
    engine = create_engine(database_url)
    try:
        index = PhoneIndex(engine)
        source = IndexSource(index, default_region=settings.default_region,
                             excluded_statuses=settings.excluded_statuses)
        if not await source.ready():
            raise RuntimeError(f"index not ready: {source.status()}")
        timings = Lookups()
        half = len(numbers) // 2
        for e164 in numbers[:half]:
            started = time.perf_counter()
            entries = index.find(e164, national_keys(e164))
            found = matches_from_index(e164, entries, default_region=settings.default_region,
                                       excluded_statuses=settings.excluded_statuses)
            timings.store.append((time.perf_counter() - started) * 1000)
            if not found:
                raise RuntimeError(f"the index does not know {e164}")
        for e164 in numbers[half:]:
            started = time.perf_counter()
            if not await source.matches(e164):
                raise RuntimeError(f"the index does not know {e164}")
            timings.first.append((time.perf_counter() - started) * 1000)
        for e164 in numbers[half:]:
            started = time.perf_counter()
            await source.matches(e164)
            timings.again.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        engine.dispose()


async def small_tenant_live(scratch: Path, latency_ms: float, count: int) -> list[float]:
    """Live lookups against the default demo tenant (825 records), where the fake's own search scan is
    cheap: what Bullhorn's latency alone costs a live lookup (in this process, over ASGITransport)."""
    data = build_demo_data()
    settings = load_settings({**service_env(sandbox_url="http://127.0.0.1", web_url="http://127.0.0.1:8000",
                                            database_url=f"sqlite:///{scratch / 'small.db'}"),
                              "BULLHORN_REST_URL": "http://127.0.0.1/rest-services"})
    store = Store(settings.database_url)
    store.migrate()
    app = create_bullhorn_app(data, BullhornSandboxConfig(latency_ms=latency_ms))
    try:
        vault = StoreVault.for_settings(store, settings)
        async with open_bullhorn(settings, vault, transport=httpx.ASGITransport(app=app)) as bullhorn:
            live = LookupService(bullhorn, default_region=settings.default_region,
                                 excluded_statuses=settings.excluded_statuses, ttl_s=300, negative_ttl_s=30)
            await live.lookup("+14155550100")  # the session login, not counted
            timings = []
            for e164 in live_numbers(data, count):
                started = time.perf_counter()
                await live.lookup(e164)
                timings.append((time.perf_counter() - started) * 1000)
            return timings
    finally:
        store.dispose()


def paced(pace_ms: float, ring_once: Callable[[], float]) -> float:
    """One ring after `pace_ms` of idle time (rings back to back leave no time for context refreshes)."""
    if pace_ms:
        time.sleep(pace_ms / 1000)
    return ring_once()


def row(name: str, values: list[float]) -> str:
    return f"{name:<44}{len(values):>6}{statistics.median(values):>10.2f}{percentile(values, 0.99):>10.2f}"


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def run(args: argparse.Namespace, scratch: Path) -> None:
    sandbox_port, aircall_port, web_port = free_port(), free_port(), free_port()
    sandbox, web = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{web_port}"
    # Aircall is another service than Bullhorn: in one fake's process a card would wait behind the
    # Bullhorn fake's scans of the big tenant (a JobSubmission query of the card context: ~10 ms here)
    aircall = f"http://127.0.0.1:{aircall_port}"
    database = scratch / "bench.db"
    database_url = f"sqlite:///{database}"
    # `--card-context 0`: the card of DESIGN §3, to compare with the card carrying its context (§13)
    env = {**service_env(sandbox_url=sandbox, web_url=web, database_url=database_url),
           "AIRCALL_API_URL": f"{aircall}/aircall", "CALLBRIDGE_CARD_CONTEXT": args.card_context}
    numbers_file = scratch / "numbers.json"
    sandbox_cmd = [sys.executable, "-m", "bench.index_sandbox", "--records", str(args.records),
                   "--latency-ms", str(args.latency_ms), "--port", str(sandbox_port), "--numbers", str(numbers_file)]
    started = time.monotonic()
    with process(sandbox_cmd, log=scratch / "sandbox.log") as sandbox_process, httpx.Client(timeout=30) as http, \
            process(sandbox_args(aircall_port, bullhorn_latency_ms=0), log=scratch / "aircall.log"):
        wait_until_up(f"{sandbox}/", timeout_s=300 + args.records / 2_000)
        wait_until_up(f"{aircall}/")
        tenant = json.loads(numbers_file.read_text())
        people = tenant["candidates"] + tenant["contacts"]
        print(f"tenant: {tenant['candidates']:,} candidates + {tenant['contacts']:,} contacts = {people:,} records "
              f"(sandbox ready in {time.monotonic() - started:.0f} s, "
              f"RSS {rss(sandbox_process.pid)[0] / MIB:,.0f} MiB); Bullhorn latency {args.latency_ms:g} ms", flush=True)
        before = int(bullhorn_requests(http, sandbox)["total"])
        worker_started = time.monotonic()
        with process([sys.executable, "-m", "insight.worker"], env=env, log=scratch / "worker.log") as worker:
            build = watch_build(http, sandbox, database, worker, worker_started, args.timeout)
            counted = bullhorn_requests(http, sandbox)
            build_requests = int(counted["total"]) - before
            rows = progress(database)
            scan_s = (max(when(r[5]) for r in rows if r[5]) - min(when(r[4]) for r in rows if r[4])).total_seconds()
            rss_built = rss(worker.pid)
            db_bytes, wal_bytes = store_bytes(database)
            records, phones = PhoneIndex(create_engine(database_url)).counts()

            numbers: list[str] = tenant["numbers"]
            lookups = asyncio.run(index_lookups(database_url, env, numbers[:args.lookups]))

            with process(web_args(web_port), env=env, log=scratch / "web.log"):
                wait_until_up(f"{web}/healthz")
                wait_index_ready(http, web, timeout_s=60)
                http.patch(f"{aircall}/aircall/_sandbox/config", json={"requests_per_minute": None}, auth=AIRCALL_AUTH)
                fresh = numbers[args.lookups:]
                ring(http, web, aircall, 89_999, display(fresh[-1]))  # the process's first ring (pools), not counted
                ring_before = bullhorn_requests(http, sandbox)["endpoints"]
                rings = [paced(args.pace_ms, partial(ring, http, web, aircall, 90_000 + i, display(e164)))
                         for i, e164 in enumerate(fresh[:args.rings])]
                ring_after = bullhorn_requests(http, sandbox)["endpoints"]
                cards = http.get(f"{aircall}/aircall/_sandbox/cards", auth=AIRCALL_AUTH).json()["cards"]
            worker_rss = rss(worker.pid)
        rate_limited = int(bullhorn_requests(http, sandbox)["rate_limited"])
    small_live = asyncio.run(small_tenant_live(scratch, args.latency_ms, args.live)) if args.live else []

    ring_requests = {name: ring_after[name] - ring_before.get(name, 0) for name in ring_after
                     if ring_after[name] != ring_before.get(name, 0)}
    # the first card of each ring; with card context on, a refreshed one may follow it (DESIGN §13)
    firsts = {card["call_id"]: card for card in reversed(cards) if card["call_id"] >= 90_000}
    matched = sum(1 for card in firsts.values() if "No Bullhorn match" not in str(card["contents"]))
    peak = max(build.peak_rss, worker_rss[1])
    per_minute = busiest_minute(build.requests)
    print(f"build: {records:,} records, {phones:,} phone rows; scan {scan_s:.0f} s ({records / scan_s:,.0f} records/s),"
          f" worker start to index built {build.wall_s:.0f} s")
    print(f"Bullhorn requests for the build: {build_requests:,} (busiest minute {per_minute:,}; limit 1,500; "
          f"{rate_limited} answered 429); by endpoint: {json.dumps(counted['endpoints'])}")
    print(f"store: SQLite {db_bytes / 1e6:.1f} MB (+ WAL {wal_bytes / 1e6:.1f} MB), "
          f"{db_bytes / max(records, 1):.0f} bytes/record")
    print(f"worker RSS: {rss_built[0] / MIB:.0f} MiB when built, {worker_rss[0] / MIB:.0f} MiB after the rings, "
          f"peak {peak / MIB:.0f} MiB")
    print(f"{'measure':<44}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}")
    print(row("lookup from the index: the store read", lookups.store))
    print(row("IndexSource.matches, first ask (on the loop)", lookups.first))
    print(row("IndexSource.matches, asked again (memory)", lookups.again))
    if small_live:
        print(row("live search, 825-record fake", small_live))
    print(row("cold ring -> card, index ready", rings))
    print(f"Bullhorn requests during {len(rings)} rings: {sum(ring_requests.values())} {ring_requests}; "
          f"cards with a match: {matched}/{len(rings)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--rings", type=int, default=200)
    parser.add_argument("--lookups", type=int, default=1_000, help="numbers looked up in the index (half each way)")
    parser.add_argument("--live", type=int, default=40, help="live lookups against an 825-record fake (0: none)")
    parser.add_argument("--timeout", type=float, default=3_600.0, help="seconds the build may take")
    parser.add_argument("--keep", type=Path, default=None, help="run in this directory and keep it (logs, store)")
    parser.add_argument("--pace-ms", type=float, default=0.0, help="idle time before each ring (default: none)")
    parser.add_argument("--card-context", choices=("0", "1"), default="1",
                        help="CALLBRIDGE_CARD_CONTEXT of the web under test (default 1, as deployed)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args, args.keep)
        return
    with tempfile.TemporaryDirectory() as scratch:
        run(args, Path(scratch))


if __name__ == "__main__":
    main()
