"""The `web` process: `uvicorn insight.app:create_app --factory`.

`create_app()` with no arguments reads the environment (as uvicorn's factory mode needs); tests
pass settings and clients built on the sandbox apps or `httpx.MockTransport` instead.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from insight.lookup.index_reader import IndexCollector, IndexSource
from insight.lookup.service import LookupService
from insight.lookup.shared_cache import open_redis_cache
from insight.store import Store, StoreVault
from insight.store.phone_index import PhoneIndex
from insight.upstream.aircall import AircallClient, open_aircall
from insight.upstream.bullhorn.client import BullhornClient, open_bullhorn
from insight.web import health, insight_api, ops_api
from insight.web.api_errors import EXCEPTION_HANDLERS
from insight.web.body_limit import BodyLimit
from insight.web.call_id import CALL_ID
from insight.web.card_push import CardPusher
from insight.web.intake_writer import BatchedCardLedger, IntakeWriter
from insight.web.metrics import CONTENT_TYPE_LATEST, Metrics
from insight.web.openapi import openapi_json
from insight.web.process_tuning import tune_after_startup
from insight.web.services import Services
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
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            own_store = store or Store(settings.database_url)
            if store is None:
                stack.callback(own_store.dispose)
            await anyio.to_thread.run_sync(own_store.migrate)
            bullhorn_client = (
                bullhorn
                if bullhorn is not None
                else await stack.enter_async_context(open_bullhorn(settings, StoreVault(own_store)))
            )
            aircall_client = aircall if aircall is not None else await stack.enter_async_context(open_aircall(settings))
            shared_cache = (
                await stack.enter_async_context(open_redis_cache(settings.redis_url)) if settings.redis_url else None
            )
            metrics = Metrics()
            intake = await stack.enter_async_context(IntakeWriter(own_store.engine).running())
            app.state.intake = intake
            metrics.intake_pending.set_function(lambda: intake.pending)
            index = IndexSource(PhoneIndex(own_store.engine), default_region=settings.default_region,
                                excluded_statuses=settings.excluded_statuses)
            metrics.registry.register(IndexCollector(index))
            app.state.index = index
            lookup = LookupService(
                bullhorn_client,
                default_region=settings.default_region,
                excluded_statuses=settings.excluded_statuses,
                ttl_s=settings.cache_ttl_s,
                negative_ttl_s=settings.negative_ttl_s,
                shared=shared_cache,
                index=index,
            )
            metrics.watch_lookup_caches(lookup.cache_sizes)
            services = Services(
                settings=settings,
                store=own_store,
                bullhorn=bullhorn_client,
                aircall=aircall_client,
                lookup=lookup,
                cards=CardPusher(
                    ledger=BatchedCardLedger(intake),
                    lookup=lookup,
                    aircall=aircall_client,
                    ui_base_url=lambda: services.ui_base_url(),
                    default_region=settings.default_region,
                    metrics=metrics,
                ),
                metrics=metrics,
            )
            app.state.services = services
            if own_process:
                tune_after_startup()
            try:
                yield
            finally:
                await services.cards.drain()

    return Starlette(
        routes=[
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz),
            Route("/metrics", _metrics),
            Route("/webhooks/aircall", aircall_webhook, methods=["POST"]),
            Route("/api/insight", insight_api.insight_for_phone),
            Route(f"/api/calls/{CALL_ID}/insight", insight_api.insight_for_call),
            Route(f"/cards/{CALL_ID}", insight_api.card_page),
            *ops_api.ROUTES,
            Route("/openapi.json", openapi_json),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(BodyLimit)],
        lifespan=lifespan,
    )


async def _metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)
