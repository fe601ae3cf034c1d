"""A tiny Bullhorn tenant, a hand-driven clock and a logged-in client, for the sandbox tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.applications import Starlette

from sandbox.bullhorn import BullhornSandbox, BullhornSandboxConfig, create_bullhorn_app
from sandbox.demo_data import DemoData
from tests.clocks import FakeClock

BASE = "http://bullhorn.test/"
T0 = 1_795_000_000.0


def _user(user_id: int, first: str, last: str, email: str, *, deleted: bool = False) -> dict[str, Any]:
    return {"id": user_id, "firstName": first, "lastName": last, "name": f"{first} {last}", "email": email,
            "username": f"{first.lower()}.{last.lower()}", "enabled": not deleted, "isDeleted": deleted}


def tiny_data() -> DemoData:
    grace = {"id": 101, "firstName": "Grace", "lastName": "Hopper"}
    company = {"id": 10, "name": "Analytical Engines Ltd"}
    return DemoData(
        corporate_users={
            1: _user(1, "Northwind", "Api", "api@northwind-staffing.com"),
            101: _user(101, "Grace", "Hopper", "grace.hopper@northwind-staffing.com"),
            102: _user(102, "Alan", "Turing", "Alan.Turing@Northwind-Staffing.Com"),
            902: _user(902, "Alan", "Turing", "alan.turing@northwind-staffing.com", deleted=True),
        },
        companies={10: {**company, "phone": "020 7946 0000", "status": "Active", "dateLastModified": 1}},
        candidates={
            2001: {"id": 2001, "firstName": "Ada", "lastName": "Lovelace", "name": "Ada Lovelace",
                   "phone": "(415) 555-0123", "mobile": "+44 20 7946 0958", "status": "Active", "isDeleted": False,
                   "owner": grace, "companyName": "Analytical Engines Ltd", "dateLastModified": 1_700_000_000_000},
            2002: {"id": 2002, "firstName": "Charles", "lastName": "Babbage", "name": "Charles Babbage",
                   "phone": None, "mobile": "415.555.0199", "status": "Archived", "isDeleted": False,
                   "owner": grace, "companyName": None, "dateLastModified": 1_790_000_000_000},
        },
        contacts={
            3001: {"id": 3001, "firstName": "Mary", "lastName": "Somerville", "name": "Mary Somerville",
                   "phone": "020 7946 0958", "mobile": None, "status": "Active", "isDeleted": False,
                   "owner": grace, "clientCorporation": company, "dateLastModified": 1_750_000_000_000},
        },
        comment_actions=["Outbound Call", "Inbound Call", "Left Message"],
    )


def make_app(**config: Any) -> tuple[Starlette, BullhornSandbox, FakeClock]:
    clock = FakeClock(T0)
    app = create_bullhorn_app(tiny_data(), BullhornSandboxConfig(clock=clock, **config))
    sandbox = app.state.sandbox
    assert isinstance(sandbox, BullhornSandbox)
    return app, sandbox, clock


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


async def authorization_code(client: httpx.AsyncClient, password: str = "demo-password") -> str:
    config = BullhornSandboxConfig()
    answer = await client.post("oauth/authorize", params={
        "client_id": config.client_id, "response_type": "code", "action": "Login",
        "username": config.username, "password": password})
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


async def tokens(client: httpx.AsyncClient) -> dict[str, Any]:
    config = BullhornSandboxConfig()
    code = await authorization_code(client)
    answer = await client.post("oauth/token", params={
        "grant_type": "authorization_code", "code": code, "client_id": config.client_id,
        "client_secret": config.client_secret})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def log_in(client: httpx.AsyncClient) -> tuple[str, str]:
    """The `restUrl` and `BhRestToken` of a fresh session."""
    access = (await tokens(client))["access_token"]
    answer = await client.post("rest-services/login", params={"version": "*", "access_token": access})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["restUrl"], body["BhRestToken"]


@asynccontextmanager
async def logged_in(**config: Any) -> AsyncIterator[tuple[httpx.AsyncClient, BullhornSandbox, FakeClock]]:
    app, sandbox, clock = make_app(**config)
    async with client_for(app) as client:
        rest_url, token = await log_in(client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=rest_url, headers={"BhRestToken": token}) as rest:
        yield rest, sandbox, clock
