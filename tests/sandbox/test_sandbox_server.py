from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.__main__ import _parser, serve_configs
from sandbox.demo_data import DemoData
from sandbox.server import _MountedRoot, build_sandbox_app

AUTH = ("demo-api-id", "demo-api-token")


@pytest.mark.anyio
async def test_one_app_serves_the_bullhorn_and_aircall_fakes_and_an_index_of_credentials():
    app = build_sandbox_app(demo_data=DemoData())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        index = await client.get("/")
        page = await client.get("/", headers={"accept": "text/html"})
        ping = await client.get("/aircall/v1/ping", auth=AUTH)
        login_info = await client.get("/bullhorn/rest-services/loginInfo", params={"username": "northwind.api"})
        internal = await client.get("/aircall/_sandbox/config", auth=AUTH)
    body = index.json()
    assert body["aircall"]["api_url"] == "http://sandbox.test/aircall"
    assert (body["aircall"]["api_id"], body["aircall"]["api_token"]) == AUTH
    assert body["bullhorn"]["rest_url"] == "http://sandbox.test/bullhorn/rest-services"
    assert body["bullhorn"]["username"] == "northwind.api" and body["bullhorn"]["password"]
    assert body["webhook_token"] == "demo-webhook-token"
    assert page.headers["content-type"].startswith("text/html") and "demo-api-token" in page.text
    assert ping.json() == {"ping": "pong"}
    assert login_info.status_code == 200
    assert login_info.json()["restUrl"].startswith("http://sandbox.test/bullhorn/")
    assert internal.json()["requests_per_minute"] == 60
    # the index names the readings each fake plays (DESIGN §10); defaults are the harsher ones
    assert body["aircall"]["reset_unit"] == "milliseconds"
    assert (body["bullhorn"]["id_range"], body["bullhorn"]["event_request_id"]) == ("text", "every_poll")


def test_bullhorn_latency_reaches_the_bullhorn_fake():
    app = build_sandbox_app(demo_data=DemoData(), bullhorn_latency_ms=80)
    (bullhorn,) = [route.app for route in app.routes if isinstance(route, Mount) and route.path == "/bullhorn"]
    assert isinstance(bullhorn, _MountedRoot) and isinstance(bullhorn.app, Starlette)
    assert bullhorn.app.state.sandbox.config.latency_ms == 80


def test_the_command_line_has_serve_and_simulate_with_the_demo_flags():
    serve = _parser().parse_args(["serve", "--port", "8100", "--bullhorn-latency-ms", "80", "--seed", "3"])
    assert (serve.command, serve.host, serve.port, serve.bullhorn_latency_ms, serve.seed) == (
        "serve", "127.0.0.1", 8100, 80.0, 3)
    simulate = _parser().parse_args([
        "simulate", "--webhook-url", "http://127.0.0.1:8000/webhooks/aircall", "--token", "demo-webhook-token",
        "--aircall-url", "http://127.0.0.1:8100/aircall", "--calls", "40", "--speed", "30", "--redeliver", "0.1",
        "--shuffle",
    ])
    assert (simulate.calls, simulate.speed, simulate.redeliver, simulate.shuffle) == (40, 30.0, 0.1, True)
    with pytest.raises(SystemExit):
        _parser().parse_args(["simulate", "--token", "t"])


def test_every_reading_is_a_serve_flag_that_reaches_its_fake() -> None:
    args = _parser().parse_args([
        "serve", "--aircall-reset-unit", "seconds", "--bullhorn-multi-get", "all", "--bullhorn-event-request-id",
        "with_events", "--bullhorn-id-range", "numeric", "--bullhorn-login-host", "rest_url", "--bullhorn-session-ttl",
        "honoured", "--bullhorn-soft-delete", "deleted", "--bullhorn-rest-host", "localhost",
        "--bullhorn-events-refused"])
    bullhorn, aircall = serve_configs(args)
    assert aircall.reset_unit == "seconds"
    assert (bullhorn.multi_get, bullhorn.event_request_id, bullhorn.id_range, bullhorn.login_host,
            bullhorn.session_ttl, bullhorn.soft_delete) == ("all", "with_events", "numeric", "rest_url", "honoured",
                                                            "deleted")
    assert bullhorn.rest_host == "localhost" and not bullhorn.event_subscriptions_allowed
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--bullhorn-id-range", "roman"])
