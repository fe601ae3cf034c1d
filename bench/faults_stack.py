"""The real processes one fault case runs against (sandbox, web, workers) and what it measures.

Everything listens on 127.0.0.1. Webhooks go through `Redelivering`, which sends a delivery again
until `web` accepts it (as Aircall redelivers a failed webhook), so an outage may delay an event
but never drop one that the bench counts as sent.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bench.processes import free_port, process, sandbox_args, service_env, wait_until_up, web_args
from insight.domain.notes import EXTERNAL_ID_PREFIX
from insight.store.engine import make_engine
from insight.store.tables import attempts, calls
from sandbox.simulator import SimulationSummary, simulate
from shared.states import SyncState

WEBHOOK_TOKEN = "demo-webhook-token"
AIRCALL_AUTH = ("demo-api-id", "demo-api-token")
#: states a call is still on its way out of
ACTIVE = (SyncState.pending.value, SyncState.syncing.value, SyncState.retrying.value)
EXPLAINED = (SyncState.failed.value, SyncState.dead.value)
#: a delivery `web` refused is sent again after this long, until the case's deadline
RESEND_DELAY_S = 0.2
#: how long the processes of a tallied case get to stop on SIGTERM before they are killed
STOP_GRACE_S = 1.0


@dataclass
class Tally:
    """One case's line: every call synced, unmatched or explained, no duplicate note, nothing lost."""

    case: str
    calls: int = 0
    synced: int = 0
    unmatched: int = 0
    #: `failed`/`dead` with an explanation a person can act on
    explained: int = 0
    #: still pending/syncing/retrying, failed/dead without explanation, or synced but behind its last event
    unsettled: int = 0
    duplicates: int = 0
    lost: int = 0
    seconds: float = 0.0
    #: webhook deliveries `web` refused or never answered, sent again
    resent: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.calls > 0 and self.duplicates == 0 and self.lost == 0 and self.unsettled == 0

    def line(self) -> str:
        verdict = "ok" if self.ok else "FAIL"
        return (f"{self.case:<17} calls {self.calls:>5}  synced {self.synced:>5}  unmatched {self.unmatched:>5}  "
                f"failed/dead explained {self.explained:>3}  unsettled {self.unsettled:>3}  "
                f"duplicates {self.duplicates}  lost {self.lost}  {self.seconds:6.1f} s  "
                f"(re-sent webhooks {self.resent}{'; ' + self.note if self.note else ''})  {verdict}")


class Redelivering(httpx.AsyncBaseTransport):
    """Sends each webhook again until `web` answers 2xx; other requests (the Aircall fake) pass through."""

    def __init__(self, webhook_url: str, *, deadline: float) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._webhook_url = webhook_url
        self._deadline = deadline
        self.resent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) != self._webhook_url:
            return await self._inner.handle_async_request(request)
        body = request.read()
        while True:
            try:
                response = await self._inner.handle_async_request(request)
                if response.status_code < 300 or time.monotonic() > self._deadline:
                    return response
                await response.aclose()
            except httpx.TransportError:
                if time.monotonic() > self._deadline:
                    raise
            self.resent += 1
            await asyncio.sleep(RESEND_DELAY_S)
            request = httpx.Request(request.method, request.url, headers=request.headers, content=body)

    async def aclose(self) -> None:
        await self._inner.aclose()


class FaultStack:
    """Sandbox + web (+ workers started on demand) on loopback, stopped when `exits` closes."""

    def __init__(self, exits: ExitStack, *, workdir: Path, database_url: str, latency_ms: float = 80.0,
                 lease_s: float = 5.0, concurrency: int = 8, sandbox_flags: Sequence[str] = (),
                 env: Mapping[str, str] | None = None, webhook_registered: bool = False) -> None:
        """`webhook_registered`: the Aircall company has callbridge's webhook (every event, the demo token),
        so the fake's delivery rule applies; otherwise deliveries go to an unregistered URL, unchecked."""
        self.workdir = workdir
        self.database_url = database_url
        sandbox_port, web_port = free_port(), free_port()
        self.sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        self.web_url = f"http://127.0.0.1:{web_port}"
        self.env = {**service_env(sandbox_url=self.sandbox_url, web_url=self.web_url, database_url=database_url),
                    "CALLBRIDGE_WORKER_LEASE_S": str(lease_s), "CALLBRIDGE_BULLHORN_CONCURRENCY": str(concurrency),
                    "CALLBRIDGE_LOG_LEVEL": "WARNING", "CALLBRIDGE_LOG_FORMAT": "text", **(env or {})}
        workdir.mkdir(parents=True, exist_ok=True)
        # the processes close last, after `_stop_together` (registered next) has stopped them all at once
        self._processes = exits.enter_context(ExitStack())
        self._started: list[subprocess.Popen[bytes]] = []
        exits.callback(self._stop_together)
        webhook = ["--webhook-url", f"{self.web_url}/webhooks/aircall"] if webhook_registered else []
        self._start(sandbox_args(sandbox_port, bullhorn_latency_ms=latency_ms, extra=[*webhook, *sandbox_flags]),
                    "sandbox.log")
        wait_until_up(f"{self.sandbox_url}/")
        self._start(web_args(web_port), "web.log", env=self.env)
        wait_until_up(f"{self.web_url}/healthz")
        self.admin = exits.enter_context(httpx.Client(base_url=f"{self.sandbox_url}/bullhorn/_sandbox", timeout=10))
        self.aircall_admin = exits.enter_context(httpx.Client(base_url=f"{self.sandbox_url}/aircall/_sandbox",
                                                              auth=AIRCALL_AUTH, timeout=10))
        self.engine: Engine = make_engine(database_url)
        exits.callback(self.engine.dispose)
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self._start([sys.executable, "-m", "insight.worker"], f"worker-{len(self.workers)}.log",
                             env=self.env)
        self.workers.append(worker)
        return worker

    def _start(self, args: list[str], log: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        started = self._processes.enter_context(process(args, env=env, log=self.workdir / log))
        self._started.append(started)
        return started

    def _stop_together(self) -> None:
        """Once the case is tallied: SIGTERM to every process at once, SIGKILL to those still up after a grace.

        Stopped one by one, each could take its full graceful shutdown: the sandbox waits for the note
        PUTs it holds, web for card pushes waiting out Aircall's rate limit.
        """
        for started in self._started:
            if started.poll() is None:
                started.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for started in self._started:
            try:
                started.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait(timeout=10)

    def kill(self, worker: subprocess.Popen[bytes]) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    def sandbox(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.admin.request(method, path, json=body)
        answer.raise_for_status()
        return answer.json()

    def aircall(self, method: str, path: str, body: Any = None) -> Any:
        """The Aircall fake's `/_sandbox/` seams (config, webhooks/deliveries)."""
        answer = self.aircall_admin.request(method, path, json=body)
        answer.raise_for_status()
        return answer.json()

    async def deliver(self, calls_count: int, *, seed: int, deadline_s: float = 120.0,
                      started_at: int | None = None) -> tuple[SimulationSummary, int]:
        """Play `calls_count` calls as webhooks; each refused delivery is re-sent until accepted.

        `started_at` fixes the calls' start, so playing them again sends the very same envelopes.
        """
        webhook_url = f"{self.web_url}/webhooks/aircall"
        transport = Redelivering(webhook_url, deadline=time.monotonic() + deadline_s)
        async with httpx.AsyncClient(transport=transport, timeout=10) as client:
            summary = await simulate(webhook_url=webhook_url, token=WEBHOOK_TOKEN, calls=calls_count, seed=seed,
                                     speed=0, redeliver=0.05, shuffle=True, concurrency=20, client=client,
                                     aircall_url=f"{self.sandbox_url}/aircall", aircall_auth=AIRCALL_AUTH,
                                     max_retries=0, started_at=started_at)
        return summary, transport.resent

    def statuses(self) -> Counter[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(calls.c.status, func.count()).group_by(calls.c.status)).all()
        return Counter({str(status): int(count) for status, count in rows})

    async def settle(self, *, expected_calls: int, timeout_s: float) -> bool:
        """Wait until every expected call is stored and none is pending, syncing or retrying."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                counts = await asyncio.to_thread(self.statuses)
            except Exception:  # the database restarting: ask again
                counts = Counter({"unknown": 1})
            if sum(counts.values()) >= expected_calls and not any(counts[state] for state in ACTIVE) \
                    and not counts["unknown"]:
                return True
            await asyncio.sleep(0.25)
        return False

    def backfilled(self) -> int:
        """Calls taken in by backfill (their source)."""
        with self.engine.connect() as connection:
            found = connection.execute(select(func.count()).select_from(calls).where(
                calls.c.source == "backfill")).scalar_one()
        return int(found)

    def reconciled(self) -> int:
        """Note writes whose answer was lost (or whose worker died) and whose note was found by externalID."""
        with self.engine.connect() as connection:
            found = connection.execute(select(func.count()).select_from(attempts).where(
                attempts.c.kind == "reconcile", attempts.c.outcome == "found")).scalar_one()
        return int(found)

    def tally(self, case: str, *, expected_calls: int, seconds: float, resent: int, note: str = "") -> Tally:
        with self.engine.connect() as connection:
            rows = connection.execute(select(calls.c.call_id, calls.c.status, calls.c.is_over, calls.c.explanation,
                                             calls.c.last_event_id, calls.c.synced_event_id)).all()
        externals = Counter(str(note_row.get("externalID")) for note_row in self.sandbox("GET", "/notes")["notes"]
                            if str(note_row.get("externalID")).startswith(EXTERNAL_ID_PREFIX))
        noted = {int(external.removeprefix(EXTERNAL_ID_PREFIX)) for external in externals}
        tally = Tally(case, calls=len(rows), seconds=round(seconds, 1), resent=resent, note=note)
        tally.duplicates = sum(1 for count in externals.values() if count > 1)
        # a simulated call that never reached the store, or never ended there, lost an accepted event
        tally.lost = max(0, expected_calls - len(rows)) + sum(1 for row in rows if not row.is_over)
        for row in rows:
            explained = row.status in EXPLAINED and bool((row.explanation or "").strip())
            if row.status == SyncState.synced.value and row.synced_event_id == row.last_event_id:
                tally.synced += 1
            elif row.status == SyncState.unmatched.value:
                tally.unmatched += 1
            elif explained:
                tally.explained += 1
            else:
                tally.unsettled += 1
            if row.is_over and row.call_id not in noted and row.status != SyncState.unmatched.value \
                    and not explained:
                tally.lost += 1
        return tally
