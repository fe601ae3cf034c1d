"""Phone index: build time, store size, lookup latency from the index vs a live search, cold ring -> card.

One process: the Bullhorn fake holding `--records` people and answering in `--latency-ms`, the
Aircall fake, and `web` (its real app, lifespan and SQLite store) over ASGITransport. The worker's
keeper builds the index; then lookups are timed from the index and live, and `call.created`
webhooks are sent to `web` until the Aircall fake has each card, counting Bullhorn requests.

    .venv/bin/python -m bench.index [--records 50000] [--latency-ms 80] [--rings 200] [--live 40]
        [--card-context 0] [--pace-ms 120]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.ring_to_card import percentile
from insight.app import create_app, running
from insight.domain.matching import PHONE_FIELDS
from insight.domain.phones import display, normalize
from insight.lookup.service import LookupService
from insight.store import Store, StoreVault
from insight.store.phone_index import PhoneIndex
from insight.upstream.aircall import open_aircall
from insight.upstream.bullhorn.client import open_bullhorn
from insight.web.services import Services
from insight.worker.index_keeper import IndexKeeper
from sandbox.aircall import AircallSandbox, AircallSandboxConfig, create_aircall_app
from sandbox.bullhorn import BullhornSandboxConfig, create_bullhorn_app
from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.demo_data import DemoData, build_demo_data
from sandbox.people import AGENTS, LINES
from shared.settings import load_settings

WEBHOOK_TOKEN = "bench-webhook-token"


def tenant(records: int) -> DemoData:
    """`records` people: 80% candidates, the rest contacts (one placeholder per company among them)."""
    companies = max(2, records // 100)
    contacts = max(12, records // 5 - companies)
    return build_demo_data(candidates=max(12, records - contacts - companies), contacts=contacts,
                           companies=companies)


def environ(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url, "CALLBRIDGE_DEMO": "1", "CALLBRIDGE_API_KEY": "bench-api-key",
        "AIRCALL_API_URL": "http://aircall.bench", "AIRCALL_API_ID": "demo-api-id",
        "AIRCALL_API_TOKEN": "demo-api-token", "AIRCALL_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "BULLHORN_REST_URL": "http://127.0.0.1/rest-services", "BULLHORN_CLIENT_ID": "callbridge-demo",
        "BULLHORN_CLIENT_SECRET": "demo-secret", "BULLHORN_USERNAME": "northwind.api",
        "BULLHORN_PASSWORD": "demo-password",
    }


def live_numbers(data: DemoData, count: int, seed: int = 8) -> list[str]:
    """Distinct E.164 numbers of live records, in random order."""
    numbers = {
        e164 for entity, table in (("Candidate", data.candidates), ("ClientContact", data.contacts))
        for record in table.values() if not record["isDeleted"] and record.get("status") not in ("Archive", "Archived")
        for name in PHONE_FIELDS[entity] if record.get(name) and (e164 := normalize(record[name], "US"))
    }
    return random.Random(seed).sample(sorted(numbers), min(count, len(numbers)))


async def timed(calls: Sequence[Any]) -> list[float]:
    timings = []
    for call in calls:
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def ring(web: httpx.AsyncClient, services: Services, aircall: AircallSandbox, call_id: int, e164: str) -> float:
    script = CallScript(call_id=call_id, kind=CallKind.INBOUND_ANSWERED, agent=AGENTS[0], line=LINES[0],
                        raw_digits=display(e164), started_at=int(time.time()), talk_s=30)
    created = lifecycle(script, token=WEBHOOK_TOKEN)[0].envelope
    aircall.calls[call_id] = dict(created["data"])
    sent_at = time.time()
    answer = await web.post("/webhooks/aircall", json=created)
    if answer.json() != {"status": "accepted"}:
        raise RuntimeError(f"webhook not accepted: {answer.text}")
    await services.cards.drain()
    # the first card; with card context on, a refreshed one may follow it (DESIGN §13)
    card = next(card for card in aircall.cards if card["call_id"] == call_id)
    return (float(card["received_at"]) - sent_at) * 1000


async def paced(pace_ms: float, ring: Coroutine[Any, Any, float]) -> float:
    """`ring` after `pace_ms` of idleness: calls arrive apart, not back to back (a process woken from idle
    answers slower than one kept busy; a card with context keeps the process busy with its refresh)."""
    if pace_ms > 0:
        await asyncio.sleep(pace_ms / 1000)
    return await ring


async def small_tenant_live(scratch: Path, latency_ms: float, count: int) -> list[float]:
    """Live lookups against the default demo tenant (825 records), where the fake's own search scan is
    cheap: what Bullhorn's latency alone costs a live lookup."""
    data = build_demo_data()
    settings = load_settings(environ(f"sqlite:///{scratch / 'small.db'}"))
    store = Store(settings.database_url)
    store.migrate()
    app = create_bullhorn_app(data, BullhornSandboxConfig(latency_ms=latency_ms))
    try:
        vault = StoreVault.for_settings(store, settings)
        async with open_bullhorn(settings, vault, transport=httpx.ASGITransport(app=app)) as bullhorn:
            live = LookupService(bullhorn, default_region=settings.default_region,
                                 excluded_statuses=settings.excluded_statuses, ttl_s=300, negative_ttl_s=30)
            await live.lookup("+14155550100")  # the session login, not counted
            return await timed([lambda e164=e164: live.lookup(e164) for e164 in live_numbers(data, count)])
    finally:
        store.dispose()


def row(name: str, values: list[float]) -> str:
    return f"{name:<40}{len(values):>6}{statistics.median(values):>10.2f}{percentile(values, 0.99):>10.2f}"


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    data = tenant(args.records)
    people = len(data.candidates) + len(data.contacts)
    print(f"tenant: {len(data.candidates):,} candidates + {len(data.contacts):,} contacts = {people:,} records "
          f"(built in {time.perf_counter() - started:.1f} s); Bullhorn latency {args.latency_ms:g} ms")
    bullhorn_app = create_bullhorn_app(data, BullhornSandboxConfig(latency_ms=args.latency_ms))
    aircall_app = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    bullhorn_fake, aircall_fake = bullhorn_app.state.sandbox, aircall_app.state.sandbox
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "bench.db"
        # `--card-context 0`: the card of DESIGN §3, to compare with the card carrying its context (§13)
        settings = load_settings({**environ(f"sqlite:///{database}"), "CALLBRIDGE_CARD_CONTEXT": args.card_context})
        store = Store(settings.database_url)
        async with AsyncExitStack() as stack:
            stack.callback(store.dispose)
            bullhorn = await stack.enter_async_context(open_bullhorn(
                settings, StoreVault.for_settings(store, settings), transport=httpx.ASGITransport(app=bullhorn_app)))
            aircall = await stack.enter_async_context(open_aircall(
                settings, transport=httpx.ASGITransport(app=aircall_app)))
            app = create_app(settings, bullhorn=bullhorn, aircall=aircall, store=store)
            served = await stack.enter_async_context(running(app))
            web = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=served.asgi), base_url="http://callbridge.bench"))

            index = PhoneIndex(store.engine)
            keeper = IndexKeeper(bullhorn, index, default_region=settings.default_region, pages_per_run=10**6)
            requests_before = sum(bullhorn_fake.faults.requests.values())
            started = time.perf_counter()
            await keeper.run_once()
            build_s = time.perf_counter() - started
            build_requests = sum(bullhorn_fake.faults.requests.values()) - requests_before
            records, phones = index.counts()
            with store.engine.connect() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            size_mb = sum(path.stat().st_size for path in database.parent.glob("bench.db*")) / 1e6

            source = served.services.index
            numbers = live_numbers(data, max(args.rings, 500) + args.live)
            if not await source.ready():
                raise RuntimeError(f"index not ready after the build: {source.status()}")
            # the index side of the comparison; live lookups below pay the fake's latency per request
            from_index = await timed([lambda e164=e164: source.matches(e164) for e164 in numbers[:500]])
            live = LookupService(bullhorn, default_region=settings.default_region,
                                 excluded_statuses=settings.excluded_statuses, ttl_s=300, negative_ttl_s=30)
            from_live = await timed([lambda e164=e164: live.lookup(e164) for e164 in numbers[-args.live:]])

            # the fakes' 50,000 records (and their analysed search documents) share this process: without
            # freezing them, every full collection walks millions of objects `web` alone would never have
            gc.collect()
            gc.freeze()
            # process warm-up (thread pool), not counted
            await ring(web, served.services, aircall_fake, 89_999, numbers[-1])
            before = dict(bullhorn_fake.faults.requests)
            rings = [await paced(args.pace_ms, ring(web, served.services, aircall_fake, 90_000 + i, e164))
                     for i, e164 in enumerate(numbers[:args.rings])]
            ring_requests = sum(bullhorn_fake.faults.requests.values()) - sum(before.values())
            # searches are the lookups a first card could wait on; the rest is the card context (notes,
            # pipeline), fetched after each first card was sent
            searches = sum(count - before.get(endpoint, 0) for endpoint, count in bullhorn_fake.faults.requests.items()
                           if endpoint.startswith("POST search/"))
            firsts = {card["call_id"]: card for card in reversed(aircall_fake.cards) if card["call_id"] >= 90_000}
            matched = sum(1 for card in firsts.values() if "No Bullhorn match" not in str(card["contents"]))
        small_live = await small_tenant_live(Path(scratch), args.latency_ms, args.live)

    print(f"build: {records:,} records, {phones:,} phone rows in {build_s:.1f} s "
          f"({records / build_s:,.0f} records/s, {build_requests} Bullhorn requests)")
    print(f"store: SQLite {size_mb:.1f} MB ({size_mb * 1e6 / max(records, 1):.0f} bytes/record)")
    print(f"{'measure':<40}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}")
    print(row("lookup from the index", from_index))
    print(row(f"live search, {people:,}-record fake", from_live))
    print(row("live search, 825-record fake", small_live))
    print(row("cold ring -> card, index ready", rings))
    print(f"Bullhorn requests during {len(rings)} rings: {ring_requests} ({searches} lookup searches, the rest card "
          f"context fetched after the first card); first cards with a match: {matched}/{len(rings)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--rings", type=int, default=200)
    parser.add_argument("--live", type=int, default=40)
    parser.add_argument("--pace-ms", type=float, default=0.0, help="idle time before each ring (default: none)")
    parser.add_argument("--card-context", choices=("0", "1"), default="1",
                        help="CALLBRIDGE_CARD_CONTEXT of the web under test (default 1, as deployed)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
