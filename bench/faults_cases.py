"""The fault cases of issues 7 and 14, each against real processes (see `bench.faults_stack`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.faults_stack import FaultStack, Tally
from sandbox.call_mix import plan_calls
from sandbox.calls import lifecycle
from sandbox.demo_data import build_demo_data
from scripts import pg_tmp


@dataclass(frozen=True)
class Run:
    """What a case gets: where to write logs, how many calls, the PostgreSQL server (if any)."""

    workdir: Path
    calls: int
    short: bool
    postgres: pg_tmp.TempPostgres | None
    seed: int = 7

    def sqlite_url(self) -> str:
        return f"sqlite:///{self.workdir / 'callbridge.db'}"

    def postgres_url(self) -> str:
        """A new, empty database on the bench's server."""
        if self.postgres is None:
            raise RuntimeError("this case needs PostgreSQL (initdb, pg_ctl, createdb)")
        server = make_url(self.postgres.url)
        name = f"faults_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.postgres.url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return server.set(database=name).render_as_string(hide_password=False)

    @property
    def settle_s(self) -> float:
        return 60.0 if self.short else 240.0


Case = Callable[[ExitStack, Run], Coroutine[Any, Any, Tally]]


async def _finish(stack: FaultStack, case: str, run: Run, started: float, resent: int, note: str = "") -> Tally:
    settled = await stack.settle(expected_calls=run.calls, timeout_s=run.settle_s)
    note = f"{note}; {stack.reconciled()} lost answers reconciled by externalID"
    note = note if settled else f"not settled within {run.settle_s:g} s; {note}"
    return stack.tally(case, expected_calls=run.calls, seconds=time.monotonic() - started, resent=resent, note=note)


async def sigkill(exits: ExitStack, run: Run) -> Tally:
    """A worker SIGKILLed while Bullhorn has applied note PUTs but holds their answers; a new one finishes."""
    stack = FaultStack(exits, workdir=run.workdir, database_url=run.sqlite_url(), lease_s=2.0)
    held = 6
    stack.sandbox("POST", "/faults", {"endpoint": "PUT entity/Note", "status": 504, "count": held,
                                      "lost_answer": True, "hold_s": 60})
    started = time.monotonic()
    first = stack.start_worker()
    delivery = asyncio.create_task(stack.deliver(run.calls, seed=run.seed))
    deadline = time.monotonic() + 30
    # kill once every held PUT has been applied (its note exists) and is still waiting for its answer
    while time.monotonic() < deadline and stack.sandbox("GET", "/faults")["faults"]:
        await asyncio.sleep(0.05)
    unanswered = held - sum(fault["remaining"] for fault in stack.sandbox("GET", "/faults")["faults"])
    in_flight = (await asyncio.to_thread(stack.statuses))["syncing"]
    stack.kill(first)
    _summary, resent = await delivery
    stack.start_worker()
    return await _finish(stack, "sigkill", run, started, resent,
                         f"killed with {in_flight} calls syncing, {unanswered} note PUTs applied and unanswered")


async def bullhorn_down(exits: ExitStack, run: Run) -> Tally:
    """Every Bullhorn request (login included) answers 503 for a while, then Bullhorn is back."""
    stack = FaultStack(exits, workdir=run.workdir, database_url=run.sqlite_url())
    outage_s = 2.0 if run.short else 20.0
    down = 1_000_000
    # down from the start, so that every call meets the outage (the worker's login included)
    stack.sandbox("POST", "/faults", {"endpoint": "*", "status": 503, "count": down})
    started = time.monotonic()
    stack.start_worker()
    delivery = asyncio.create_task(stack.deliver(run.calls, seed=run.seed))
    await asyncio.sleep(outage_s)
    refused = down - sum(fault["remaining"] for fault in stack.sandbox("GET", "/faults")["faults"])
    stack.sandbox("DELETE", "/faults")
    _summary, resent = await delivery
    return await _finish(stack, "bullhorn_down", run, started, resent,
                         f"{outage_s:g} s of 503s on every endpoint, {refused} requests refused")


async def rate_limited(exits: ExitStack, run: Run) -> Tally:
    """Bursts of 429 on every endpoint, on top of a tight token bucket."""
    stack = FaultStack(exits, workdir=run.workdir, database_url=run.sqlite_url())
    bursts = 3 if run.short else 15
    stack.sandbox("PATCH", "/config", {"rate_limit_per_s": 25})
    started = time.monotonic()
    stack.start_worker()
    delivery = asyncio.create_task(stack.deliver(run.calls, seed=run.seed))
    for _ in range(bursts):
        stack.sandbox("POST", "/faults", {"endpoint": "*", "status": 429, "count": 25})
        await asyncio.sleep(0.8)
    _summary, resent = await delivery
    return await _finish(stack, "rate_limited", run, started, resent,
                         f"{bursts} bursts of 25 429s on every endpoint, token bucket at 25 requests/s")


async def postgres_restart(exits: ExitStack, run: Run) -> Tally:
    """PostgreSQL restarted (fast shutdown: every connection dropped) while web ingests and workers sync."""
    assert run.postgres is not None
    stack = FaultStack(exits, workdir=run.workdir, database_url=run.postgres_url())
    restarts = 1 if run.short else 3
    started = time.monotonic()
    stack.start_worker()
    stack.start_worker()
    delivery = asyncio.create_task(stack.deliver(run.calls, seed=run.seed))
    took = []
    for _ in range(restarts):
        await asyncio.sleep(0.7 if run.short else 4.0)
        began = time.monotonic()
        await asyncio.to_thread(pg_tmp.restart, run.postgres.directory)
        took.append(time.monotonic() - began)
    _summary, resent = await delivery
    return await _finish(stack, "postgres_restart", run, started, resent,
                         f"{restarts} restart(s) under load, {max(took):.1f} s down at most; 2 workers")


async def four_workers(exits: ExitStack, run: Run) -> Tally:
    """Four worker processes drain one PostgreSQL queue (FOR UPDATE SKIP LOCKED)."""
    stack = FaultStack(exits, workdir=run.workdir, database_url=run.postgres_url())
    # a few lost answers so that takeovers and reconciliation happen under contention too
    stack.sandbox("PATCH", "/config", {"lost_answer_rates": {"PUT entity/Note": 0.02}, "error_rates": {"*": 0.02},
                                       "error_status": 503})
    started = time.monotonic()
    for _ in range(4):
        stack.start_worker()
    _summary, resent = await stack.deliver(run.calls, seed=run.seed)
    return await _finish(stack, "four_workers", run, started, resent,
                         "4 workers x 8 Bullhorn slots, 2 % 503s, 2 % note PUTs applied with the answer lost")


async def webhook_gap(exits: ExitStack, run: Run) -> Tally:
    """Webhook deliveries fail until Aircall deactivates the webhook; calls go on while it is off; backfill
    (every second) takes them in; then the webhook is re-enabled (the doctor's fix) and every event of
    the gap arrives late, after backfill took its call in."""
    failures_to_deactivate = 5
    stack = FaultStack(exits, workdir=run.workdir, database_url=run.sqlite_url(), env={
        "CALLBRIDGE_BACKFILL_INTERVAL_S": "1", "CALLBRIDGE_BACKFILL_LOOKBACK_S": "7200"},
        sandbox_flags=["--aircall-webhook-failures-to-deactivate", str(failures_to_deactivate)],
        webhook_registered=True)
    webhook_url = f"{stack.web_url}/webhooks/aircall"
    started = time.monotonic()
    sizes = (run.calls // 3, run.calls // 3, run.calls - 2 * (run.calls // 3))
    # each batch's calls end now, as Aircall lists them (the first backfill run looks back 2 h)
    starts = [int(time.time()) - _span(size, run.seed + index) for index, size in enumerate(sizes)]
    before, resent = await stack.deliver(sizes[0], seed=run.seed, started_at=starts[0])
    stack.aircall("PATCH", "/config", {"webhook_deliveries_fail": True})
    failing, _ = await stack.deliver(sizes[1], seed=run.seed + 1, started_at=starts[1])
    stack.aircall("PATCH", "/config", {"webhook_deliveries_fail": False})
    switched_off, _ = await stack.deliver(sizes[2], seed=run.seed + 2, started_at=starts[2])
    [webhook] = [hook for hook in stack.aircall("GET", "/webhooks/deliveries")["webhooks"]
                 if hook["url"] == webhook_url]
    stack.start_worker()
    backfilled = await stack.settle(expected_calls=run.calls, timeout_s=run.settle_s)
    taken_in = stack.backfilled()

    fixed = httpx.post(f"{stack.web_url}/api/setup/fix", json={"fix": "enable_webhook"}, timeout=30,
                       headers={"Authorization": f"Bearer {stack.env['CALLBRIDGE_API_KEY']}"}).json()
    late = [(await stack.deliver(size, seed=run.seed + index, started_at=starts[index]))[0]
            for index, size in enumerate(sizes) if index]
    dropped = failing.dropped + switched_off.dropped
    note = (f"{failing.failed} deliveries failed, webhook {'deactivated' if not webhook['active'] else 'STILL ACTIVE'}"
            f" after {failures_to_deactivate}; {dropped} events never sent; {taken_in} calls taken in by backfill"
            f"{'' if backfilled else ' (NOT all within the deadline)'}; webhook {fixed.get('status')} after "
            f"enable_webhook; {sum(summary.deliveries for summary in late)} late deliveries of the gap's events")
    if before.dropped or webhook["active"] or not backfilled or fixed.get("status") != "ok" \
            or any(summary.dropped for summary in late):
        note = f"gap not played as planned: {note}"
        return Tally("webhook_gap", note=note)
    return await _finish(stack, "webhook_gap", run, started, resent, note)


def _span(calls: int, seed: int) -> int:
    """Seconds from a batch's first call start to its last event (the simulator's demo callers)."""
    scripts = plan_calls(calls, seed=seed, callers=build_demo_data().callers, started_at=0)
    return max((script.started_at + lifecycle(script, token="")[-1].send_at_s for script in scripts), default=0)


CASES: dict[str, Case] = {"sigkill": sigkill, "bullhorn_down": bullhorn_down, "rate_limited": rate_limited,
                          "postgres_restart": postgres_restart, "four_workers": four_workers,
                          "webhook_gap": webhook_gap}
NEEDS_POSTGRES = ("postgres_restart", "four_workers")
