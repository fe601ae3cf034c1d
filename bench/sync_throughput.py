"""Note sync throughput and exactly-once under faults (DESIGN §8): `python -m bench.sync_throughput`.

Plays `--calls` simulated call lifecycles (redeliveries, out-of-order events, late tags, comments and
voicemails) through the real intake (`intake_batch`, as the webhook's writer does), in two phases: first every
event up to `call.ended`, then the late ones. After each phase the worker(s) run until the queue is
idle against the Bullhorn sandbox at `--latency-ms` per request with faults injected: 5 % 500s, 2 %
held timeouts, 1 % note PUTs applied with the answer lost, 429 bursts and one session expiry. It
prints calls/s per worker, notes written and updated, duplicates (calls with more than one note by
externalID) and lost calls (ended, no note, not `unmatched`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
import httpx
from sqlalchemy import func, select

from insight.domain.aircall_events import parse_envelope
from insight.domain.retry_policy import RetryPolicy
from insight.store import Store, StoreVault
from insight.store.intake_batch import event_to_record, record_batch
from insight.store.tables import attempts, calls
from insight.upstream.bullhorn.auth import BullhornAuth
from insight.upstream.bullhorn.client import BullhornClient
from insight.upstream.bullhorn.login import BullhornCredentials
from insight.worker.runner import OUTCOMES, Worker
from sandbox.bullhorn import BullhornSandbox, BullhornSandboxConfig, create_bullhorn_app
from sandbox.call_mix import plan_calls
from sandbox.calls import lifecycle
from sandbox.demo_data import build_demo_data
from sandbox.faults import ScriptedFault
from sandbox.simulator import delivery_plan
from shared.settings import Settings, load_settings
from shared.states import SyncState

TOKEN = "bench-webhook-token"
#: the REST endpoints faults are injected on (not the login flow)
REST = ("* search/*", "* query/*", "* entity/*")
#: shorter than the client's timeout, so a held request ends in the sandbox's 504, as a gateway's would
TIMEOUT_HOLD_S = 0.3
CLIENT_TIMEOUT = httpx.Timeout(2.0)
ACTIVE = (SyncState.pending.value, SyncState.retrying.value, SyncState.syncing.value)


@dataclass
class Phase:
    name: str
    calls: int = 0
    seconds: float = 0.0


def _settings(database_url: str, concurrency: int) -> Settings:
    return load_settings({
        "DATABASE_URL": database_url, "CALLBRIDGE_SIGNING_KEY": "bench-signing-key-of-at-least-32-bytes",
        "AIRCALL_API_ID": "bench",
        "AIRCALL_API_TOKEN": "bench", "AIRCALL_WEBHOOK_TOKEN": TOKEN,
        "BULLHORN_REST_URL": "http://127.0.0.1/rest-services", "BULLHORN_CLIENT_ID": "callbridge-demo",
        "BULLHORN_CLIENT_SECRET": "demo-secret", "BULLHORN_USERNAME": "northwind.api",
        "BULLHORN_PASSWORD": "demo-password", "CALLBRIDGE_BULLHORN_CONCURRENCY": str(concurrency),
    })


def _deliveries(count: int, seed: int) -> tuple[list[bytes], list[bytes]]:
    """Every delivery (redeliveries included) in arrival order: up to `call.ended`, and after it."""
    callers = build_demo_data().callers
    rng = random.Random(seed)
    scripts = plan_calls(count, seed=seed, callers=callers, started_at=1_795_000_000, mean_gap_s=3.0)
    timeline: list[tuple[int, int, bool, bytes]] = []
    for script in scripts:
        events = lifecycle(script, token=TOKEN)
        ended_s = next(event.send_at_s for event in events if event.envelope["event"] == "call.ended")
        for delivery in delivery_plan(events, rng, redeliver=0.1, shuffle=True, window=3):
            late = delivery.send_at_s > ended_s
            timeline.append((script.started_at + delivery.send_at_s, len(timeline), late, delivery.body))
    timeline.sort()
    return [body for *_, late, body in timeline if not late], [body for *_, late, body in timeline if late]


def _feed(store: Store, bodies: list[bytes]) -> None:
    for body in bodies:
        record_batch(store.engine, [event_to_record(parse_envelope(body), body.decode(), claim_card=False)])


def _active(store: Store) -> int:
    with store.engine.connect() as connection:
        statement = select(func.count()).select_from(calls).where(calls.c.status.in_(ACTIVE),
                                                                  calls.c.next_attempt_at.is_not(None))
        return int(connection.execute(statement).scalar_one())


async def _drain(workers: list[Worker], store: Store, counts: Counter[str]) -> None:
    async def one(worker: Worker) -> None:
        while True:
            counts.update(await worker.run_once())
            if not await anyio.to_thread.run_sync(lambda: _active(store)):
                return
            await asyncio.sleep(0.05)

    await asyncio.gather(*(one(worker) for worker in workers))


async def _chaos(sandbox: BullhornSandbox, admin: httpx.AsyncClient, stop: asyncio.Event) -> None:
    """A burst of 429s every 3 s (once the previous one is spent), and one session expiry 3 s in."""
    started = time.monotonic()
    expired = False
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 3.0)
        except TimeoutError:
            pass
        if not sandbox.faults.scripted:
            sandbox.faults.script(ScriptedFault("* search/*", status=429, remaining=6))
            sandbox.faults.script(ScriptedFault("PUT entity/Note", status=429, remaining=3))
        if not expired and time.monotonic() - started > 3.0:
            assert (await admin.post("/_sandbox/expire-sessions")).is_success
            expired = True


async def run(args: argparse.Namespace) -> dict[str, object]:
    directory = Path(tempfile.mkdtemp(prefix="sync-bench-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    settings = _settings(f"sqlite:///{directory / 'callbridge.db'}", args.concurrency)
    config = BullhornSandboxConfig(
        latency_ms=args.latency_ms, error_rates=dict.fromkeys(REST, 0.05), timeout_rates=dict.fromkeys(REST, 0.02),
        lost_answer_rates={"PUT entity/Note": 0.01}, timeout_hold_s=TIMEOUT_HOLD_S, fault_seed=args.seed)
    app = create_bullhorn_app(build_demo_data(), config)
    sandbox: BullhornSandbox = app.state.sandbox
    early, late = _deliveries(args.calls, args.seed)
    phases = [Phase("until call.ended"), Phase("late events")]
    counts: Counter[str] = Counter()
    async with AsyncExitStack() as stack:
        stores = [Store(settings.database_url) for _ in range(args.workers)]
        for store in stores:
            stack.callback(store.dispose)
        store = stores[0]
        store.migrate()
        transport = httpx.ASGITransport(app=app)
        admin = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://bullhorn.test"))
        workers = []
        for index, own_store in enumerate(stores):
            auth_http = await stack.enter_async_context(httpx.AsyncClient(transport=transport))
            http = await stack.enter_async_context(httpx.AsyncClient(transport=transport))
            vault = StoreVault.for_settings(own_store, settings)
            auth = BullhornAuth(BullhornCredentials.from_settings(settings), vault, auth_http)
            client = BullhornClient(http, auth, concurrency=settings.bullhorn_concurrency, timeout=CLIENT_TIMEOUT)
            policy = RetryPolicy(max_attempts=settings.max_attempts, base_delay_s=0.5, max_delay_s=10, min_delay_s=0.2)
            workers.append(Worker(store=own_store, bullhorn=client, settings=settings, policy=policy,
                                  worker_id=f"bench-{index}"))
        stop = asyncio.Event()
        chaos = asyncio.create_task(_chaos(sandbox, admin, stop))
        fed = 0.0
        for phase, bodies in zip(phases, (early, late), strict=True):
            started = time.perf_counter()
            await anyio.to_thread.run_sync(lambda bodies=bodies: _feed(store, bodies))  # type: ignore[misc]
            fed += time.perf_counter() - started
            before = counts["synced"]
            started = time.perf_counter()
            await _drain(workers, store, counts)
            phase.seconds, phase.calls = time.perf_counter() - started, counts["synced"] - before
        stop.set()
        await chaos
        return _report(args, store, sandbox, phases, counts, fed, len(early) + len(late))


def _report(args: argparse.Namespace, store: Store, sandbox: BullhornSandbox, phases: list[Phase],
            counts: Counter[str], fed_s: float, deliveries: int) -> dict[str, object]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(calls.c.call_id, calls.c.status, calls.c.is_over, calls.c.note_id,
                                         calls.c.last_event_id, calls.c.synced_event_id)).all()
        writes = Counter(f"{kind} {outcome}" for kind, outcome in connection.execute(
            select(attempts.c.kind, attempts.c.outcome)))
    by_external = Counter(note.get("externalID") for note in sandbox.notes.values())
    noted = {int(str(external).split(":")[1]) for external in by_external if external}
    statuses = Counter(row.status for row in rows)
    lost = [row.call_id for row in rows if row.is_over and row.call_id not in noted and row.status != "unmatched"]
    stale = [row.call_id for row in rows if row.status == "synced" and row.synced_event_id != row.last_event_id]
    seconds = sum(phase.seconds for phase in phases)
    settled = sum(1 for row in rows if row.status in ("synced", "unmatched"))
    return {
        "calls": len(rows), "deliveries": deliveries, "workers": args.workers, "concurrency": args.concurrency,
        "latency_ms": args.latency_ms, "intake_s": round(fed_s, 1),
        # every call brought to a final state (written, updated, or kept unmatched), over all sync time
        "calls_per_s_per_worker": round(settled / seconds / args.workers, 1) if seconds else 0,
        "note_writes_per_s": round((writes["create ok"] + writes["update ok"]) / seconds, 1) if seconds else 0,
        "phases": [{"phase": p.name, "calls_synced": p.calls, "seconds": round(p.seconds, 1)} for p in phases],
        "sync_seconds": round(seconds, 1), "notes_written": len(sandbox.notes),
        "notes_updated": writes["update ok"], "duplicates": sum(1 for n in by_external.values() if n > 1),
        "lost": len(lost), "stale": len(stale), "statuses": dict(statuses),
        "outcomes": {name: counts[name] for name in OUTCOMES}, "bullhorn_writes": dict(sorted(writes.items())),
        "faults_injected": _fault_totals(sandbox), "logins": sandbox.auth.logins,
        "rate_limited_429": sum(v for k, v in sandbox.faults.faults_injected.items() if k.startswith("scripted")),
    }


def _fault_totals(sandbox: BullhornSandbox) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for key, value in sandbox.faults.faults_injected.items():
        totals[key.split(" ", 1)[0]] += value
    return dict(totals)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8, help="CALLBRIDGE_BULLHORN_CONCURRENCY per worker")
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    print(f"\n{result['calls']} calls, {args.workers} worker(s) x {args.concurrency} Bullhorn slots at "
          f"{args.latency_ms:.0f} ms: {result['calls_per_s_per_worker']} calls/s per worker "
          f"(all synced in {result['sync_seconds']} s); notes written "
          f"{result['notes_written']}, updated {result['notes_updated']}; duplicates {result['duplicates']}, "
          f"lost {result['lost']}, stale {result['stale']}")


if __name__ == "__main__":
    main()
