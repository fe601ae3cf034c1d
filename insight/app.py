"""The `web` process: `uvicorn insight.app:create_app --factory`.

`create_app()` with no arguments reads the environment (as uvicorn's factory mode needs); tests
pass settings and clients built on the sandbox apps or `httpx.MockTransport` instead, and run the
app in process with `running`.

The lifespan is the composition root: it builds every part once, in dependency order, and hands
handlers one `Services` as Starlette lifespan state (`request.state.services`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from insight.backfill.on_demand import BackfillRuns
from insight.lookup.context import ContextService
from insight.lookup.index_reader import IndexCollector, IndexSource
from insight.lookup.service import LookupService
from insight.lookup.shared_cache import open_redis_cache
from insight.store import Store, StoreVault
from insight.store.aircall_hold import StoreAircallHold
from insight.store.loop_reads import LoopReader
from insight.store.phone_index import PhoneIndex
from insight.store.setup import webhook_tokens
from insight.store.tables import utcnow
from insight.store.usage import flush_usage_forever
from insight.upstream.action_list import ActionListCache
from insight.upstream.aircall import AircallClient, open_aircall
from insight.upstream.bullhorn.client import BullhornClient, open_bullhorn
from insight.upstream.meter import RequestMeter
from insight.web import backfill_api, conversations_api, create_record_api, health, insight_api, ops_api, setup_api
from insight.web.api_errors import EXCEPTION_HANDLERS
from insight.web.body_limit import BodyLimit
from insight.web.budget import BudgetCollector
from insight.web.call_id import CALL_ID
from insight.web.card_push import CardPusher
from insight.web.intake_writer import IntakeWriter
from insight.web.metrics import CONTENT_TYPE_LATEST, Metrics
from insight.web.metrics_access import require_metrics_client
from insight.web.openapi import openapi_json
from insight.web.process_tuning import tune_after_startup
from insight.web.services import Services
from insight.web.sync_metrics import SyncCollector
from insight.web.ui_base import UiBaseUrl
from insight.web.webhook_tokens import AcceptedTokens
from insight.web.webhooks import aircall_webhook
from shared.logs import configure_from_settings
from shared.settings import Settings, load_settings

log = logging.getLogger("callbridge.web")


def create_app(
    settings: Settings | None = None,
    *,
    bullhorn: BullhornClient | None = None,
    aircall: AircallClient | None = None,
    store: Store | None = None,
) -> Starlette:
    own_process = settings is None
    if settings is None:
        settings = load_settings()
        # only a process built from its environment owns logging; tests pass settings and keep theirs
        configure_from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Services]]:
        async with AsyncExitStack() as stack:
            own_store = store or Store(settings.database_url)
            if store is None:
                stack.callback(own_store.dispose)
            await anyio.to_thread.run_sync(own_store.migrate)
            bullhorn_client = (
                bullhorn
                if bullhorn is not None
                else await stack.enter_async_context(
                    open_bullhorn(settings, StoreVault.for_settings(own_store, settings))
                )
            )
            # a client built without a meter (a test's MockTransport) reports zero requests
            meter = bullhorn_client.meter or RequestMeter()
            flusher = asyncio.create_task(flush_usage_forever(own_store.engine, meter.take, meter.give_back))
            stack.push_async_callback(_stopped, flusher)
            aircall_client = aircall if aircall is not None else await stack.enter_async_context(
                open_aircall(settings, shared=StoreAircallHold(own_store.engine)))
            shared_cache = (
                await stack.enter_async_context(open_redis_cache(settings.redis_url)) if settings.redis_url else None
            )
            backfills = BackfillRuns(aircall_client, own_store.engine)
            await backfills.fail_abandoned()
            stack.push_async_callback(backfills.stop)
            intake = await stack.enter_async_context(IntakeWriter(own_store.engine).running())
            # short reads on a ring's path (the index's first ask, the card context) run on the loop
            loop_reads = LoopReader(own_store.engine)
            stack.callback(loop_reads.close)
            index = IndexSource(PhoneIndex(own_store.engine), default_region=settings.default_region,
                                excluded_statuses=settings.excluded_statuses, reads=loop_reads)
            lookup = LookupService(
                bullhorn_client,
                default_region=settings.default_region,
                excluded_statuses=settings.excluded_statuses,
                ttl_s=settings.cache_ttl_s,
                negative_ttl_s=settings.negative_ttl_s,
                shared=shared_cache,
                index=index,
            )
            metrics = Metrics()
            metrics.intake_pending.set_function(lambda: intake.pending)
            metrics.watch_lookup_caches(lookup.cache_sizes)
            metrics.registry.register(IndexCollector(index))
            metrics.registry.register(SyncCollector(own_store.engine))
            metrics.registry.register(BudgetCollector(own_store.engine, settings, utcnow))
            metrics.registry.register(backfill_api.BackfillCollector(own_store.engine))
            ui_base_url = UiBaseUrl(settings.bullhorn_ui_url, bullhorn_client.auth)
            context = ContextService(bullhorn_client, loop_reads, ttl_s=settings.cache_ttl_s)
            metrics.context_skipped.set_function(lambda: context.skipped)
            stack.push_async_callback(context.drain)
            cards = CardPusher(
                ledger=intake,
                lookup=lookup,
                aircall=aircall_client,
                ui_base_url=ui_base_url,
                default_region=settings.default_region,
                metrics=metrics,
                context=context if settings.card_context else None,
            )
            services = Services(
                settings=settings,
                store=own_store,
                bullhorn=bullhorn_client,
                aircall=aircall_client,
                webhook_tokens=AcceptedTokens(settings.aircall_webhook_tokens,
                                              lambda: webhook_tokens(own_store.engine)),
                lookup=lookup,
                context=context,
                intake=intake,
                index=index,
                action_list=ActionListCache(bullhorn_client.comment_actions),
                ui_base_url=ui_base_url,
                cards=cards,
                metrics=metrics,
                meter=meter,
                backfills=backfills,
            )
            if own_process:
                tune_after_startup()
            try:
                yield {"services": services}
            finally:
                await cards.drain()

    return Starlette(
        routes=[
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz),
            Route("/api/health", health.health_report),
            Route("/metrics", _metrics),
            Route("/webhooks/aircall", aircall_webhook, methods=["POST"]),
            Route("/api/insight", insight_api.insight_for_phone),
            Route(f"/api/calls/{CALL_ID}/insight", insight_api.insight_for_call),
            Route(f"/cards/{CALL_ID}", insight_api.card_page),
            *ops_api.ROUTES,
            *backfill_api.ROUTES,
            *setup_api.ROUTES,
            *conversations_api.ROUTES,
            *create_record_api.ROUTES,
            Route("/openapi.json", openapi_json),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            Middleware(
                BodyLimit,
                deadline_s=settings.body_timeout_s,
                budgeted_paths=("/webhooks/aircall",),
                budget_bytes=settings.webhook_bytes_in_flight,
            )
        ],
        lifespan=lifespan,
    )


@dataclass(frozen=True)
class Running:
    """An app whose lifespan runs in this process: call `asgi` (e.g. through httpx's ASGITransport)."""

    asgi: ASGIApp
    services: Services


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[Running]:
    """Run the app's lifespan here, for in-process clients (tests, benchmarks).

    A server hands each request a copy of the lifespan state, as uvicorn does; httpx's ASGITransport
    runs no lifespan, so `Running.asgi` adds that copy to each request's scope itself.
    """
    async with app.router.lifespan_context(app) as state:
        assert state is not None

        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] in ("http", "websocket"):
                scope["state"] = dict(state)
            await app(scope, receive, send)

        yield Running(asgi, state["services"])


async def _stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _metrics(request: Request) -> Response:
    services: Services = request.state.services
    require_metrics_client(request, services.settings)
    # the collectors read the store: not on the event loop
    body = await anyio.to_thread.run_sync(services.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
