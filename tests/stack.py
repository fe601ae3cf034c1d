"""The whole service in one event loop: web app + Bullhorn and Aircall sandboxes over ASGITransport.

Fakes sit at the HTTP boundary only; the service code under test is exactly what runs in `web`.
"""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.types import ASGIApp

from insight.app import create_app, running
from insight.domain.retry_policy import RetryPolicy
from insight.store import Store, StoreVault
from insight.store.tables import utcnow
from insight.upstream.aircall import AircallClient, open_aircall
from insight.upstream.bullhorn.client import BullhornClient, open_bullhorn
from insight.upstream.retry import WaitBudget
from insight.web.services import Services
from insight.worker.runner import Worker
from sandbox.aircall import AircallSandbox, AircallSandboxConfig, create_aircall_app
from sandbox.bullhorn import BullhornSandbox, BullhornSandboxConfig, create_bullhorn_app
from sandbox.demo_data import DemoData, build_demo_data
from shared.settings import Settings, load_settings
from tests.schema_kit import sqlite_at_head

API_KEY = "test-api-key"
WEBHOOK_TOKEN = "test-webhook-token"

_DEMO: DemoData | None = None
_DEMO_PICKLED: bytes | None = None


def demo_data() -> DemoData:
    global _DEMO
    if _DEMO is None:
        _DEMO = build_demo_data()
    return _DEMO


def fresh_demo_data() -> DemoData:
    """A copy of the demo tenant of its own, for a sandbox to change (unpickling it is ~6x cheaper than a deepcopy)."""
    global _DEMO_PICKLED
    if _DEMO_PICKLED is None:
        _DEMO_PICKLED = pickle.dumps(demo_data(), protocol=pickle.HIGHEST_PROTOCOL)
    fresh: DemoData = pickle.loads(_DEMO_PICKLED)
    return fresh


def test_environ(database_url: str, **overrides: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "CALLBRIDGE_API_KEY": API_KEY,
        "CALLBRIDGE_SIGNING_KEY": "test-signing-key-of-at-least-32-bytes",
        "CALLBRIDGE_PUBLIC_URL": "http://callbridge.test",
        "AIRCALL_API_URL": "http://aircall.test",
        "AIRCALL_API_ID": "demo-api-id",
        "AIRCALL_API_TOKEN": "demo-api-token",
        "AIRCALL_WEBHOOK_TOKEN": f"old-token,{WEBHOOK_TOKEN}",
        "BULLHORN_REST_URL": "http://127.0.0.1/rest-services",
        "BULLHORN_CLIENT_ID": "callbridge-demo",
        "BULLHORN_CLIENT_SECRET": "demo-secret",
        "BULLHORN_USERNAME": "northwind.api",
        "BULLHORN_PASSWORD": "demo-password",
        **overrides,
    }


class ManualClock:
    """The worker's "now": the real time, plus however far a test has moved it forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Stack:
    app: Starlette
    #: the app as a server runs it: each request gets the lifespan's state
    asgi: ASGIApp
    web: httpx.AsyncClient
    services: Services
    settings: Settings
    store: Store
    bullhorn: BullhornSandbox
    aircall: AircallSandbox
    #: the Bullhorn sandbox's own HTTP API (inspection endpoints under /_sandbox/)
    bullhorn_admin: httpx.AsyncClient
    #: the web's Aircall client, on the Aircall sandbox
    aircall_client: AircallClient
    #: for workers (`Stack.worker`): the sandbox app, and where their clients are closed
    bullhorn_app: Starlette | None = None
    #: the Aircall sandbox app (its `/_sandbox/` seams, and the simulator's registrations)
    aircall_app: Starlette | None = None
    exit_stack: AsyncExitStack | None = None
    clock: ManualClock = field(default_factory=ManualClock)
    #: what the workers' Bullhorn clients were asked to sleep (429 waits), instead of sleeping
    slept: list[float] = field(default_factory=list)

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"}

    async def deliver(self, envelope: Mapping[str, Any]) -> httpx.Response:
        """POST one webhook as Aircall would, registering the call with the Aircall fake first."""
        data = envelope.get("data")
        # an AI event's data.id is the insight's, not a call
        is_call = str(envelope.get("event")).startswith("call.")
        if is_call and isinstance(data, dict) and isinstance(data.get("id"), int):
            self.aircall.calls[data["id"]] = dict(data)
        return await self.web.post("/webhooks/aircall", json=dict(envelope))

    async def settle(self) -> None:
        """Wait for background work the webhook started (card pushes) and for their outcomes to be stored."""
        await self.services.cards.drain()
        await self.services.intake.flush()

    def searches(self) -> int:
        """Searches the Bullhorn sandbox has answered (its request log): two per live phone lookup."""
        requests = self.bullhorn.faults.requests
        return sum(count for endpoint, count in requests.items() if endpoint.startswith("POST search/"))

    def cards_for(self, call_id: int) -> list[dict[str, Any]]:
        return [card for card in self.aircall.cards if card["call_id"] == call_id]

    async def worker(
        self,
        *,
        store: Store | None = None,
        rate_limit: WaitBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        lease_s: float | None = None,
        **options: Any,
    ) -> Worker:
        """A worker on this stack's store and Bullhorn sandbox, sharing the web's Bullhorn session.

        Retries are due at once unless Retry-After asks otherwise, and `stack.clock` is its "now".
        `lease_s` replaces CALLBRIDGE_WORKER_LEASE_S for this worker.
        """
        assert self.exit_stack is not None and self.bullhorn_app is not None
        http = await self.exit_stack.enter_async_context(
            httpx.AsyncClient(transport=transport or httpx.ASGITransport(app=self.bullhorn_app))
        )

        async def sleep(seconds: float) -> None:
            self.slept.append(seconds)

        client = BullhornClient(http, self.services.bullhorn.auth, concurrency=self.settings.bullhorn_concurrency,
                                rate_limit=rate_limit, sleep=sleep)
        options.setdefault("policy", RetryPolicy(max_attempts=self.settings.max_attempts, base_delay_s=0,
                                                 min_delay_s=0))
        options.setdefault("clock", self.clock)
        options.setdefault("aircall", self.aircall_client)
        settings = self.settings if lease_s is None else replace(self.settings, worker_lease_s=lease_s)
        return Worker(store=store or self.store, bullhorn=client, settings=settings, **options)


@asynccontextmanager
async def running_stack(
    tmp_path: Path,
    *,
    database_url: str | None = None,
    bullhorn_config: BullhornSandboxConfig | None = None,
    aircall_config: AircallSandboxConfig | None = None,
    **environ: str,
) -> AsyncIterator[Stack]:
    if database_url is None:
        sqlite_at_head(tmp_path / "callbridge.db")
    settings = load_settings(test_environ(database_url or f"sqlite:///{tmp_path / 'callbridge.db'}", **environ))
    bullhorn_app = create_bullhorn_app(fresh_demo_data(), bullhorn_config or BullhornSandboxConfig())
    aircall_app = create_aircall_app(aircall_config or AircallSandboxConfig())
    store = Store(settings.database_url)
    async with AsyncExitStack() as stack:
        stack.callback(store.dispose)
        bullhorn = await stack.enter_async_context(
            open_bullhorn(
                settings, StoreVault.for_settings(store, settings), transport=httpx.ASGITransport(app=bullhorn_app)
            )
        )
        aircall = await stack.enter_async_context(
            open_aircall(settings, transport=httpx.ASGITransport(app=aircall_app))
        )
        app = create_app(settings, bullhorn=bullhorn, aircall=aircall, store=store)
        started = await stack.enter_async_context(running(app))
        web = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=started.asgi), base_url="http://callbridge.test")
        )
        bullhorn_admin = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=bullhorn_app), base_url="http://bullhorn.test")
        )
        yield Stack(
            app=app,
            asgi=started.asgi,
            web=web,
            services=started.services,
            settings=settings,
            store=store,
            bullhorn=bullhorn_app.state.sandbox,
            aircall=aircall_app.state.sandbox,
            bullhorn_admin=bullhorn_admin,
            aircall_client=aircall,
            bullhorn_app=bullhorn_app,
            aircall_app=aircall_app,
            exit_stack=stack,
        )
