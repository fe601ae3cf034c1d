from __future__ import annotations

import httpx
import pytest

from sandbox.aircall import AircallSandboxConfig, create_aircall_app
from sandbox.aircall_admin import ALL_EVENTS
from sandbox.people import AGENTS, TAGS

pytestmark = pytest.mark.anyio

AUTH = ("demo-api-id", "demo-api-token")
HOOK = {"url": "https://callbridge.example.com/webhooks/aircall", "custom_name": "callbridge",
        "events": ["call.created", "call.ended"]}


def client() -> httpx.AsyncClient:
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aircall.test", auth=AUTH)


async def test_a_created_webhook_returns_its_token_which_only_the_single_read_repeats() -> None:
    async with client() as aircall:
        created = await aircall.post("/v1/webhooks", json=HOOK)
        webhook = created.json()["webhook"]
        listed = (await aircall.get("/v1/webhooks")).json()
        one = (await aircall.get(f"/v1/webhooks/{webhook['webhook_id']}")).json()["webhook"]

    assert created.status_code == 201
    assert webhook["token"] and webhook["active"] is True and webhook["events"] == HOOK["events"]
    assert set(webhook) == {"webhook_id", "direct_link", "created_at", "custom_name", "url", "active", "events",
                            "token"}
    assert [hook["webhook_id"] for hook in listed["webhooks"]] == [webhook["webhook_id"]]
    assert "token" not in listed["webhooks"][0] and listed["meta"]["total"] == 1
    assert one["token"] == webhook["token"]


async def test_omitted_events_subscribe_to_every_event_on_create_and_on_update() -> None:
    async with client() as aircall:
        everything = (await aircall.post("/v1/webhooks", json={"url": HOOK["url"]})).json()["webhook"]
        narrow = (await aircall.post("/v1/webhooks", json=HOOK)).json()["webhook"]
        reset = (await aircall.put(f"/v1/webhooks/{narrow['webhook_id']}", json={"active": False})).json()["webhook"]
        kept = (await aircall.put(f"/v1/webhooks/{narrow['webhook_id']}",
                                  json={"active": True, "events": HOOK["events"]})).json()["webhook"]

    assert everything["events"] == list(ALL_EVENTS) and len(ALL_EVENTS) == 67
    assert reset["events"] == list(ALL_EVENTS) and reset["active"] is False
    assert kept["events"] == HOOK["events"] and kept["active"] is True and kept["token"] == narrow["token"]


async def test_events_action_adds_or_removes_instead_of_replacing() -> None:
    async with client() as aircall:
        webhook = (await aircall.post("/v1/webhooks", json=HOOK)).json()["webhook"]
        path = f"/v1/webhooks/{webhook['webhook_id']}"
        added = (await aircall.put(path, params={"events_action": "add"}, json={"events": ["call.tagged"]})).json()
        removed = (await aircall.put(path, params={"events_action": "remove"},
                                     json={"events": ["call.created"]})).json()

    assert added["webhook"]["events"] == ["call.created", "call.ended", "call.tagged"]
    assert removed["webhook"]["events"] == ["call.ended", "call.tagged"]


async def test_bad_webhooks_are_refused_with_400_and_unknown_ones_with_404() -> None:
    async with client() as aircall:
        plain_http = await aircall.post("/v1/webhooks", json={**HOOK, "url": "http://callbridge.example.com/hook"})
        bad_event = await aircall.post("/v1/webhooks", json={**HOOK, "events": ["call.created", "call.exploded"]})
        local_http = await aircall.post("/v1/webhooks", json={**HOOK, "url": "http://127.0.0.1:8000/webhooks/aircall"})
        unknown = await aircall.put("/v1/webhooks/nope", json={"active": True})
        deleted = await aircall.delete(f"/v1/webhooks/{local_http.json()['webhook']['webhook_id']}")
        gone = await aircall.delete(f"/v1/webhooks/{local_http.json()['webhook']['webhook_id']}")

    assert plain_http.status_code == 400 and "HTTPS" in plain_http.json()["troubleshoot"]
    assert bad_event.status_code == 400 and "call.exploded" in bad_event.json()["troubleshoot"]
    assert local_http.status_code == 201
    assert unknown.status_code == 404 and deleted.status_code == 204 and gone.status_code == 404


async def test_tags_are_created_renamed_and_deleted_with_emojis_removed() -> None:
    async with client() as aircall:
        created = await aircall.post("/v1/tags", json={"name": "Outbound Call 📞", "color": "#0033cc"})
        tag = created.json()["tag"]
        renamed = (await aircall.put(f"/v1/tags/{tag['id']}", json={"name": "Inbound Call"})).json()["tag"]
        bad_color = await aircall.post("/v1/tags", json={"name": "X", "color": "blue"})
        listed = (await aircall.get("/v1/tags")).json()["tags"]
        deleted = await aircall.delete(f"/v1/tags/{tag['id']}")
        after = (await aircall.get("/v1/tags")).json()["tags"]

    assert created.status_code == 201
    assert (tag["name"], tag["color"], tag["description"]) == ("Outbound Call", "#0033CC", None)
    assert renamed["name"] == "Inbound Call" and renamed["id"] == tag["id"]
    assert bad_color.status_code == 400
    assert [t["name"] for t in listed] == [*TAGS, "Inbound Call"]
    assert deleted.status_code == 204 and [t["name"] for t in after] == list(TAGS)


async def test_v2_users_list_every_agent_with_an_email_and_read_one_by_id_or_email() -> None:
    async with client() as aircall:
        listed = (await aircall.get("/v2/users", params={"per_page": 50})).json()
        by_email = (await aircall.get(f"/v2/users/{AGENTS[3].aircall_email.upper()}")).json()["user"]
        by_id = (await aircall.get(f"/v2/users/{AGENTS[3].aircall_id}")).json()["user"]
        nobody = await aircall.get("/v2/users/nobody@example.com")

    assert [user["email"] for user in listed["users"]] == [agent.aircall_email for agent in AGENTS]
    assert by_email == by_id and by_id["name"] == AGENTS[3].name
    assert nobody.status_code == 404


async def test_aircall_refusals_are_switchable_per_endpoint_with_v2_endpoints_named_like_v1() -> None:
    app = create_aircall_app(AircallSandboxConfig(requests_per_minute=None, error_status=403,
                                                  error_rates={"POST webhooks": 1.0, "GET v2/users": 1.0}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aircall.test",
                                 auth=AUTH) as aircall:
        create = await aircall.post("/v1/webhooks", json=HOOK)
        users = await aircall.get("/v2/users")
        tags = await aircall.get("/v1/tags")

    assert (create.status_code, users.status_code, tags.status_code) == (403, 403, 200)


async def test_the_demo_company_starts_with_the_simulators_webhook_sending_every_event() -> None:
    from sandbox.server import DEMO_WEBHOOK_TOKEN, build_sandbox_app

    app = build_sandbox_app(demo_webhook_url="http://127.0.0.1:8000/webhooks/aircall")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox.test/aircall",
                                 auth=AUTH) as aircall:
        (listed,) = (await aircall.get("/v1/webhooks")).json()["webhooks"]
        webhook = (await aircall.get(f"/v1/webhooks/{listed['webhook_id']}")).json()["webhook"]

    assert webhook["token"] == DEMO_WEBHOOK_TOKEN and webhook["events"] == list(ALL_EVENTS)
    assert webhook["url"] == "http://127.0.0.1:8000/webhooks/aircall" and webhook["active"] is True
