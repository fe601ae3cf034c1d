"""Webhook ingest: events/s and ack latency of `POST /webhooks/aircall` at increasing rates.

Starts the real processes — the sandbox (Bullhorn and Aircall fakes, so card pushes are real) and
`web` under uvicorn — and, in a separate process, an open-loop load generator (`bench.load_client`)
that sends realistic call lifecycles (every `call.*` event, 5 % redelivered) in steps of rising
rate. The same steps run against a bare Starlette endpoint (`bench.bare_app`): the ceiling of the
HTTP stack on this machine. A step is sustained when it achieves ≥ 98 % of its target rate with
p99 ≤ 50 ms and no errors (DESIGN §8). Every accepted event is checked to be in the database.

    .venv/bin/python -m bench.ingest [--quick] [--targets bare,sqlite,postgres] [--rates 250,500,1000,1500,2000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import func, insert, select

from bench.load_client import Step, StepResult, build_request, run_steps
from bench.processes import ROOT, free_port, process, sandbox_args, service_env, wait_until_up
from bench.traffic import call_scripts, calls_for_events, encoded, sandbox_calls, webhook_stream
from insight.store import Store
from insight.store.intake_batch import CARD_PUSHING
from insight.store.tables import calls as calls_table
from insight.store.tables import events, utcnow
from scripts import pg_tmp
from shared.states import SyncState

TOKEN = "demo-webhook-token"
PATH = "/webhooks/aircall"
AIRCALL_AUTH = ("demo-api-id", "demo-api-token")
#: the `web` line of Procfile, less host and port
UVICORN_FLAGS = ("--log-level", "warning", "--no-access-log")
#: long enough to look up every demo caller once and load phonenumbers' metadata of each region
WARM_UP = Step(rate_per_s=100, duration_s=5)


def uvicorn_args(app: str, port: int, *, workers: int, access_log: bool) -> list[str]:
    flags = ["--log-level", "info"] if access_log else list(UVICORN_FLAGS)
    if workers > 1:
        flags += ["--workers", str(workers)]
    return [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port), *flags]


def load_in_child(port: int, steps: Sequence[Step], started_at: int, calls: int, connections: int) -> list[StepResult]:
    """Runs in its own process: rebuilds the (seeded) traffic and plays it."""
    scripts = call_scripts(calls, seed=7, started_at=started_at)
    requests = [build_request("127.0.0.1", port, PATH, body) for body in encoded(webhook_stream(scripts, token=TOKEN))]
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # uvicorn[standard] brings it; without it asyncio's loop does, slower
        pass
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(run_steps("127.0.0.1", port, requests, steps, connections=connections))


def play(port: int, steps: Sequence[Step], started_at: int, calls: int, connections: int) -> list[StepResult]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(load_in_child, (port, steps, started_at, calls, connections))


@contextmanager
def postgres() -> Iterator[str]:
    """pg_tmp's server, made durable again: pg_tmp turns fsync off for tests, a bench must not."""
    server = pg_tmp.start()
    try:
        with psycopg.connect(server.url, autocommit=True) as connection:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                connection.execute(sql.SQL("ALTER SYSTEM SET {} = on").format(sql.Identifier(setting)))
            connection.execute("SELECT pg_reload_conf()")
        yield server.url
    finally:
        pg_tmp.stop(server.directory)


def card_counts(database_url: str, timeout_s: float = 30.0) -> dict[str, int]:
    """Cards this run pushed, failed and still pushing, once the pushes under way have finished."""
    store = Store(database_url)
    table = calls_table.c
    query = select(
        func.count(table.card_pushed_at),
        func.count().filter(table.card_status == "failed"),
        func.count().filter(table.card_status == CARD_PUSHING),
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with store.engine.connect() as connection:
                pushed, failed, pushing = connection.execute(query).one()
            if not pushing or time.monotonic() > deadline:
                return {"pushed": int(pushed), "failed": int(failed), "still pushing": int(pushing)}
            time.sleep(0.5)
    finally:
        store.dispose()


def stored_events(database_url: str) -> int:
    store = Store(database_url)
    try:
        with store.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(events)).scalar_one())
    finally:
        store.dispose()


def preclaim_cards(database_url: str, call_ids: Sequence[int]) -> None:
    """Mark every call's card as pushed already, so the run pushes none: the ingest path alone."""
    store = Store(database_url)
    now = utcnow()
    rows = [
        {"call_id": call_id, "is_over": False, "state_json": {}, "flags_json": {}, "status": SyncState.pending.value,
         "attempt_count": 0, "rematch": False, "created_at": now, "updated_at": now, "card_status": "pushed"}
        for call_id in call_ids
    ]
    try:
        with store.engine.begin() as connection:
            connection.execute(insert(calls_table), rows)
    finally:
        store.dispose()


def register_calls(sandbox: str, started_at: int, calls: int) -> None:
    async def register() -> None:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=sandbox, auth=AIRCALL_AUTH, limits=limits, timeout=30) as http:
            (await http.patch("/aircall/_sandbox/config", json={"requests_per_minute": None})).raise_for_status()
            bodies = list(sandbox_calls(call_scripts(calls, seed=7, started_at=started_at)))
            for first in range(0, len(bodies), 64):
                answers = await asyncio.gather(
                    *(http.post("/aircall/_sandbox/calls", json=body) for body in bodies[first : first + 64])
                )
                for answer in answers:
                    answer.raise_for_status()

    asyncio.run(register())


def report(target: str, results: Sequence[StepResult], notes: Sequence[str]) -> None:
    print(f"\n{target}")
    print(f"{'target/s':>9}{'achieved/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'errors':>7}  outcomes")
    for result in results:
        outcomes = " ".join(f"{name}={count}" for name, count in result.outcomes.items())
        mark = "" if result.sustained() else "  (missed)"
        print(
            f"{result.target_per_s:>9.0f}{result.achieved_per_s:>11.1f}{result.p50_ms:>8.1f}{result.p99_ms:>8.1f}"
            f"{result.max_ms:>8.1f}{result.errors:>7}  {outcomes}{mark}"
        )
    sustained = [result.target_per_s for result in results if result.sustained()]
    best = f"{max(sustained):.0f} events/s" if sustained else "none of the steps"
    print(f"sustained (>= 98 % of target, p99 <= 50 ms, no errors): {best}")
    for note in notes:
        print(note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1-second steps, for checking the bench itself")
    parser.add_argument("--targets", default="bare,sqlite,postgres")
    parser.add_argument("--rates", default="250,500,1000,1500,2000")
    parser.add_argument("--step-s", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--web-workers", type=int, default=1, help="uvicorn --workers")
    parser.add_argument("--access-log", action="store_true", help="uvicorn's defaults (access log, info level)")
    parser.add_argument(
        "--cards", choices=["live", "preclaimed"], default="live",
        help="live: every call's Insight Card is pushed to the Aircall fake; preclaimed: calls are stored as "
        "carded beforehand, so no push competes with the ingest path for the web's CPU",
    )
    args = parser.parse_args()

    step_s = 1.0 if args.quick else args.step_s
    steps = [WARM_UP, *(Step(float(rate), step_s) for rate in args.rates.split(","))]
    calls = calls_for_events(sum(int(step.rate_per_s * step.duration_s) for step in steps))
    started_at = int(time.time())
    sandbox_port = free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    print(
        f"ingest: POST {PATH}, open loop, {args.connections} connections, steps of {step_s:g} s after a warm-up; "
        f"{os.cpu_count()} CPUs; uvicorn {args.web_workers} process(es) {' '.join(UVICORN_FLAGS)}"
        f"{' (with access log)' if args.access_log else ''}; {calls} calls (~6.4 events each, 5 % redelivered); "
        f"Insight Cards {args.cards}"
    )
    # the database on the repository's disk, not a tmpfs /tmp where fsync costs nothing
    (ROOT / ".run").mkdir(exist_ok=True)
    with ExitStack() as stack, tempfile.TemporaryDirectory(dir=ROOT / ".run") as d:
        stack.enter_context(process(sandbox_args(sandbox_port, bullhorn_latency_ms=5)))
        wait_until_up(f"{sandbox}/")
        register_calls(sandbox, started_at, calls)
        for target in args.targets.split(","):
            port = free_port()
            web = f"http://127.0.0.1:{port}"
            if target == "bare":
                app_args = uvicorn_args("bench.bare_app:create_app", port, workers=1, access_log=args.access_log)
                with process(app_args):
                    wait_until_up(f"{web}/healthz")
                    results = play(port, steps, started_at, calls, args.connections)
                report("bare Starlette endpoint (await request.json(), answer)", results[1:], [])
                continue
            with ExitStack() as database:
                if target == "sqlite":
                    url = f"sqlite:///{Path(d) / f'ingest-{port}.db'}"
                elif target == "postgres":
                    url = database.enter_context(postgres())
                else:
                    parser.error(f"unknown target {target} (bare, sqlite, postgres)")
                env = service_env(sandbox_url=sandbox, web_url=web, database_url=url)
                app_args = uvicorn_args("insight.app:create_app", port, workers=args.web_workers,
                                        access_log=args.access_log)
                with process(app_args, env=env, log=Path(d) / f"web-{target}.log"):
                    wait_until_up(f"{web}/healthz")
                    if httpx.get(f"{web}/readyz", timeout=10).json().get("status") != "ready":
                        raise RuntimeError(f"web is not ready on {target}")
                    if args.cards == "preclaimed":
                        preclaim_cards(url, [script.call_id for script in call_scripts(calls, seed=7,
                                                                                        started_at=started_at)])
                    results = play(port, steps, started_at, calls, args.connections)
                    cards = card_counts(url)
                accepted = sum(result.outcomes.get("accepted", 0) for result in results)
                stored = stored_events(url)
                notes = [
                    "Insight Cards (off the ack path): "
                    + ", ".join(f"{count} {status}" for status, count in sorted(cards.items())),
                    f"events accepted {accepted}, rows in `events` {stored}"
                    + ("" if stored >= accepted else "  <-- ACCEPTED EVENTS MISSING"),
                ]
                report(f"web on {target}", results[1:], notes)


if __name__ == "__main__":
    main()
