"""One ASGI app serving both fakes: Bullhorn under `/bullhorn`, Aircall under `/aircall`, an index at `/`."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.aircall import AircallSandboxConfig, create_aircall_app
from sandbox.aircall_objects import Json
from sandbox.bullhorn import BullhornSandboxConfig, create_bullhorn_app
from sandbox.demo_data import DemoData
from sandbox.readings import readings_of

#: the webhook token `demo.env` gives the service; the simulator must put the same one in envelopes
DEMO_WEBHOOK_TOKEN = "demo-webhook-token"


def build_sandbox_app(
    *,
    seed: int | None = None,
    bullhorn_latency_ms: float = 0.0,
    aircall_config: AircallSandboxConfig | None = None,
    bullhorn_config: BullhornSandboxConfig | None = None,
    demo_data: DemoData | None = None,
    demo_webhook_url: str | None = None,
) -> Starlette:
    """Both fakes in one app. `seed` picks the demo tenant (None: its default) unless `demo_data` is given.

    `demo_webhook_url`: the Aircall company starts with the simulator's webhook registered there, as
    an admin would have made it in the Dashboard (every event, token `DEMO_WEBHOOK_TOKEN`).
    """
    if demo_data is None:
        from sandbox.demo_data import build_demo_data

        demo_data = build_demo_data() if seed is None else build_demo_data(seed=seed)
    bullhorn_config = bullhorn_config or BullhornSandboxConfig(latency_ms=bullhorn_latency_ms)
    bullhorn = create_bullhorn_app(demo_data, bullhorn_config)
    aircall = create_aircall_app(aircall_config)
    aircall_config = aircall.state.sandbox.config
    if demo_webhook_url:
        aircall.state.sandbox.webhooks.add(url=demo_webhook_url, custom_name="call simulator (demo)",
                                           token=DEMO_WEBHOOK_TOKEN)

    async def index(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        body: Json = {
            "service": "callbridge sandbox",
            "aircall": {
                "api_url": f"{base}/aircall",
                "api_id": aircall_config.api_id,
                "api_token": aircall_config.api_token,
                "requests_per_minute": aircall_config.requests_per_minute,
                **readings_of(aircall_config, "aircall"),
                "inspect": " ".join(f"{base}/aircall/_sandbox/{path}" for path in ("cards", "calls", "config")),
            },
            "bullhorn": {
                "rest_url": f"{base}/bullhorn/rest-services",
                "client_id": bullhorn_config.client_id,
                "client_secret": bullhorn_config.client_secret,
                "username": bullhorn_config.username,
                "password": bullhorn_config.password,
                "latency_ms": bullhorn_config.latency_ms,
                **readings_of(bullhorn_config, "bullhorn"),
                "inspect": f"{base}/bullhorn/_sandbox/",
            },
            "webhook_token": DEMO_WEBHOOK_TOKEN,
            "simulate": "python -m sandbox simulate --webhook-url http://127.0.0.1:8000/webhooks/aircall "
                        f"--token {DEMO_WEBHOOK_TOKEN} --aircall-url {base}/aircall --calls 20 --speed 60",
        }
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(_index_html(body))
        return JSONResponse(body)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Starlette does not run a mounted app's lifespan; run each here so both fakes start fully.
        async with AsyncExitStack() as stack:
            for sub in (bullhorn, aircall):
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            yield

    routes = [Route("/", index), Mount("/bullhorn", app=_MountedRoot(bullhorn)), Mount("/aircall", app=aircall)]
    return Starlette(routes=routes, lifespan=lifespan)


class _MountedRoot:
    """Makes a mounted app's `request.base_url` its mount point, not the server's root.

    Starlette's base_url is the top-level app's root, so without this the Bullhorn fake's loginInfo
    would announce `http://host/rest-services` instead of `http://host/bullhorn/rest-services`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "app_root_path": scope.get("root_path", "")}
        await self.app(scope, receive, send)


def _index_html(body: Json) -> str:
    def rows(section: Json) -> str:
        return "".join(
            f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(value))}</td></tr>"
            for key, value in section.items()
        )

    sections = "".join(
        f"<h2>{html.escape(name)}</h2><table>{rows(body[name])}</table>" for name in ("aircall", "bullhorn")
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>callbridge sandbox</title></head><body>"
        f"<h1>callbridge sandbox</h1>{sections}"
        f"<p>Webhook token: <code>{html.escape(str(body['webhook_token']))}</code></p>"
        f"<p>Play calls: <code>{html.escape(str(body['simulate']))}</code></p></body></html>"
    )
