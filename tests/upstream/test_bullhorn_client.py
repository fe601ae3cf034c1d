from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager

import httpx
import pytest

from insight.domain.session import BullhornSession, MemoryVault
from insight.upstream.bullhorn.auth import BullhornAuth
from insight.upstream.bullhorn.client import BullhornClient, CreateResult, open_bullhorn
from insight.upstream.bullhorn.login import BullhornCredentials
from insight.upstream.errors import UpstreamRejected, UpstreamUnavailable
from insight.upstream.retry import WaitBudget
from sandbox.bullhorn import BullhornSandbox, BullhornSandboxConfig, create_bullhorn_app
from sandbox.faults import ScriptedFault
from shared.settings import Secret, Settings

REST_URL = "http://127.0.0.1/rest-services/corp7/"
CREDENTIALS = BullhornCredentials("http://127.0.0.1/rest-services", "c", Secret("s"), "u", Secret("p"))
Handler = Callable[[httpx.Request], httpx.Response]
AsyncHandler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class Scripted:
    """Answers the scripted responses in order ("429 twice, then 200"), recording every request."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def no_login(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected login call {request.url}")


@asynccontextmanager
async def client_for(handler: Handler | AsyncHandler, *, sleep: Sleeps | None = None,
                     rate_limit: WaitBudget | None = None, concurrency: int = 8) -> AsyncIterator[BullhornClient]:
    vault = MemoryVault(BullhornSession("bh-1", REST_URL))
    async with (httpx.AsyncClient(transport=httpx.MockTransport(no_login)) as auth_http,
                httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http):
        auth = BullhornAuth(CREDENTIALS, vault, auth_http)
        yield BullhornClient(http, auth, concurrency=concurrency, sleep=sleep or Sleeps(), rate_limit=rate_limit)


def rate_limited(retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return httpx.Response(429, json={"errorMessage": "Rate Limited -- Wait 1 second then retry request.",
                                     "errorCode": 429}, headers=headers)


@pytest.mark.anyio
async def test_search_posts_the_lucene_query_as_json_so_a_plus_survives() -> None:
    server = Scripted(httpx.Response(200, json={"total": 1, "start": 0, "count": 1, "data": [{"id": 42}]}))
    async with client_for(server) as client:
        answer = await client.search("Candidate", 'phone:"+14155550123"', fields="id,phone", count=5,
                                     sort="-dateLastModified")
    request = server.requests[0]
    assert request.method == "POST" and request.url.path == "/rest-services/corp7/search/Candidate"
    assert dict(request.url.params) == {"fields": "id,phone", "count": "5", "start": "0", "sort": "-dateLastModified"}
    assert json.loads(request.content) == {"query": 'phone:"+14155550123"'}
    assert request.headers["BhRestToken"] == "bh-1" and answer["data"] == [{"id": 42}]
    assert request.extensions["timeout"] == {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}


@pytest.mark.anyio
async def test_the_client_keeps_at_most_its_concurrency_in_flight_whatever_its_callers_ask() -> None:
    in_flight: list[str] = []
    peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal peak
        in_flight.append(request.url.path)
        peak = max(peak, len(in_flight))
        await asyncio.sleep(0.01)
        in_flight.remove(request.url.path)
        return httpx.Response(200, json={"data": []})

    async with client_for(slow, concurrency=3) as client:
        await asyncio.gather(*(client.search("Candidate", "id:1", fields="id") for _ in range(5)),
                             *(client.query("CorporateUser", "id=1", fields="id") for _ in range(5)),
                             client.get("Candidate", [1, 2], fields="id"), client.ping())

    assert peak == 3 and not in_flight


@pytest.mark.anyio
async def test_a_429_is_waited_out_for_at_least_a_second_then_succeeds() -> None:
    server = Scripted(rate_limited(), rate_limited("0"), httpx.Response(200, json={"sessionExpires": 1}))
    sleeps = Sleeps()
    async with client_for(server, sleep=sleeps) as client:
        assert await client.ping() == {"sessionExpires": 1}
    assert sleeps.calls == [1.0, 1.0] and len(server.requests) == 3


@pytest.mark.anyio
async def test_a_429_honours_a_longer_retry_after() -> None:
    server = Scripted(rate_limited("3"), httpx.Response(200, json={"commentActionList": ["Outbound Call"]}))
    sleeps = Sleeps()
    async with client_for(server, sleep=sleeps) as client:
        assert await client.comment_actions() == ["Outbound Call"]
    assert sleeps.calls == [3.0]


@pytest.mark.anyio
async def test_429s_past_the_budget_raise_upstream_unavailable_with_the_wait_asked() -> None:
    server = Scripted(rate_limited("2"))
    sleeps = Sleeps()
    async with client_for(server, sleep=sleeps, rate_limit=WaitBudget(max_waits=3, max_total_s=30)) as client:
        with pytest.raises(UpstreamUnavailable, match="rate limited the session check") as raised:
            await client.ping()
    assert sleeps.calls == [2.0, 2.0, 2.0] and len(server.requests) == 4
    assert (raised.value.status_code, raised.value.retry_after_s) == (429, 2.0)


@pytest.mark.anyio
async def test_a_200_with_warning_messages_surfaces_them() -> None:
    warning = {"detailMessage": "Attempt to set to-many", "propertyName": "clientContacts", "severity": "WARNING",
               "type": "ATTEMPT_TO_SET_TO_MANY"}
    server = Scripted(httpx.Response(200, json={"changedEntityType": "Note", "changedEntityId": 1489,
                                                "changeType": "INSERT", "messages": [warning]}),
                      httpx.Response(200, json={"changedEntityId": 1489, "changeType": "UPDATE",
                                                "messages": [warning]}))
    async with client_for(server) as client:
        created = await client.create_note({"comments": "Outbound", "clientContacts": {"id": 1}})
        updated = await client.update_note(1489, {"action": "Outbound Call"})
    assert created == CreateResult(1489, [warning]) and updated == [warning]
    assert [(r.method, r.url.path.rsplit("corp7/")[1]) for r in server.requests] == [
        ("PUT", "entity/Note"), ("POST", "entity/Note/1489")]


@pytest.mark.anyio
async def test_get_answers_one_record_for_an_id_and_a_list_for_ids() -> None:
    server = Scripted(httpx.Response(200, json={"data": {"id": 1}}), httpx.Response(200, json={"data": {"id": 1}}),
                      httpx.Response(200, json={"data": [{"id": 1}, {"id": 2}]}))
    async with client_for(server) as client:
        assert await client.get("Candidate", 1, fields="id") == {"id": 1}
        assert await client.get("Candidate", [1], fields="id") == [{"id": 1}]
        assert await client.get("Candidate", [1, 2], fields="id") == [{"id": 1}, {"id": 2}]
        assert await client.get("Candidate", [], fields="id") == []
    assert server.requests[2].url.path.endswith("/entity/Candidate/1,2")
    # always `count`: Bullhorn may otherwise answer only the first 20 ids (DESIGN §10)
    assert server.requests[2].url.params["count"] == "2"


@pytest.mark.anyio
async def test_person_notes_reads_the_newest_notes_with_their_external_ids() -> None:
    server = Scripted(httpx.Response(200, json={"total": 1, "data": [{"id": 5, "externalID": "aircall:9"}]}))
    async with client_for(server) as client:
        notes = await client.person_notes("ClientContact", 12, count=100)
    assert notes == [{"id": 5, "externalID": "aircall:9"}]
    request = server.requests[0]
    assert request.url.path.endswith("/entity/ClientContact/12/notes")
    assert dict(request.url.params) == {"fields": "id,externalID,dateAdded", "count": "100", "start": "0",
                                        "orderBy": "-dateAdded"}


@pytest.mark.anyio
async def test_a_403_on_a_note_update_is_rejected_with_the_admin_explanation() -> None:
    server = Scripted(httpx.Response(403, json={"errorMessage": "Access denied", "errorCode": 403}))
    async with client_for(server) as client:
        with pytest.raises(UpstreamRejected, match="grant create and edit on Notes") as raised:
            await client.update_note(3, {"action": "Call"})
    assert raised.value.status_code == 403 and raised.value.body == {"errorMessage": "Access denied", "errorCode": 403}


@pytest.mark.anyio
async def test_a_duplicate_value_500_on_a_write_is_rejected_not_retried() -> None:
    body = {"errorMessage": "error persisting an entity of type: Note", "errorCode": 500,
            "errors": [{"propertyName": None, "severity": "ERROR", "type": "DUPLICATE_VALUE"}],
            "entityName": "Note"}
    server = Scripted(httpx.Response(500, json=body))
    async with client_for(server) as client:
        with pytest.raises(UpstreamRejected) as raised:
            await client.create_note({"personReference": {"id": 42}, "comments": "x"})
    assert raised.value.error_key == "DUPLICATE_VALUE" and len(server.requests) == 1


@pytest.mark.anyio
async def test_a_5xx_is_unavailable_with_its_retry_after() -> None:
    server = Scripted(httpx.Response(503, json={"errorMessage": "Maintenance"}, headers={"Retry-After": "120"}))
    async with client_for(server) as client:
        with pytest.raises(UpstreamUnavailable, match="in maintenance") as raised:
            await client.search("ClientContact", "phone:1", fields="id")
    assert (raised.value.status_code, raised.value.retry_after_s) == (503, 120.0)


@pytest.mark.anyio
async def test_a_timeout_is_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with client_for(slow) as client:
        with pytest.raises(UpstreamUnavailable, match=r"in time \(ReadTimeout\); it may or may not") as raised:
            await client.create_note({"comments": "x"})
    assert raised.value.status_code is None


@asynccontextmanager
async def sandbox_client(config: BullhornSandboxConfig | None = None, sleep: Sleeps | None = None
                         ) -> AsyncIterator[tuple[BullhornClient, BullhornSandbox]]:
    app = create_bullhorn_app(config=config or BullhornSandboxConfig())
    credentials = BullhornCredentials("http://127.0.0.1/rest-services", "callbridge-demo", Secret("demo-secret"),
                                      "northwind.api", Secret("demo-password"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport) as auth_http, httpx.AsyncClient(transport=transport) as http:
        auth = BullhornAuth(credentials, MemoryVault(), auth_http)
        yield BullhornClient(http, auth, concurrency=8, sleep=sleep or Sleeps()), app.state.sandbox


@pytest.mark.anyio
async def test_a_note_is_created_found_again_by_external_id_and_updated_on_the_sandbox() -> None:
    async with sandbox_client() as (client, sandbox):
        found = await client.search("Candidate", "mobile:7946 AND mobile:0533", fields="id,firstName,mobile")
        person = found["data"][0]["id"]
        created = await client.create_note({
            "personReference": {"id": person}, "commentingPerson": {"id": 1}, "action": "Outbound Call",
            "comments": "<p>Outbound</p>", "externalID": "aircall:77", "minutesSpent": 2})
        notes = await client.person_notes("Candidate", person)
        messages = await client.update_note(created.id, {"comments": "<p>Outbound, tagged</p>"})
    assert [n["id"] for n in notes if n.get("externalID") == "aircall:77"] == [created.id]
    assert sandbox.notes[created.id]["comments"] == "<p>Outbound, tagged</p>" and messages == []


@pytest.mark.anyio
async def test_the_sandbox_rate_limit_is_waited_out_then_the_read_succeeds() -> None:
    sleeps = Sleeps()
    async with sandbox_client(sleep=sleeps) as (client, sandbox):
        await client.ping()
        sandbox.faults.script(ScriptedFault("GET settings/*", status=429, remaining=2))
        actions = await client.comment_actions()
    assert "Outbound Call" in actions and sleeps.calls == [1.0, 1.0]


@pytest.mark.anyio
async def test_the_sandbox_refusing_note_edits_is_explained_for_an_admin() -> None:
    async with sandbox_client(BullhornSandboxConfig(note_edit_allowed=False)) as (client, _):
        created = await client.create_note({"personReference": {"id": 2226}, "comments": "x"})
        with pytest.raises(UpstreamRejected, match="grant create and edit on Notes") as raised:
            await client.update_note(created.id, {"action": "Outbound Call"})
    assert raised.value.status_code == 403


@pytest.mark.anyio
async def test_open_bullhorn_builds_a_client_from_settings_that_works_on_the_sandbox() -> None:
    settings = Settings(bullhorn_rest_url="http://127.0.0.1/rest-services", bullhorn_client_id="callbridge-demo",
                        bullhorn_client_secret=Secret("demo-secret"), bullhorn_username="northwind.api",
                        bullhorn_password=Secret("demo-password"))
    vault = MemoryVault()
    async with open_bullhorn(settings, vault, transport=httpx.ASGITransport(app=create_bullhorn_app())) as client:
        assert "sessionExpires" in await client.ping()
        session = await client.auth.session()
    assert await vault.load() == session and session.ats_url == "http://127.0.0.1/ats"
