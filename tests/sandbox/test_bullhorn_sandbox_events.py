from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from sandbox.bullhorn import BullhornSandbox
from sandbox.readings import EventRequestId, SoftDelete
from tests.bullhorn_sandbox_kit import client_for, log_in, logged_in, make_app

pytestmark = pytest.mark.anyio

SUBSCRIBE = {"type": "entity", "names": "Candidate,ClientContact", "eventTypes": "INSERTED,UPDATED,DELETED"}


async def _subscribe(rest: httpx.AsyncClient, name: str = "idx") -> dict[str, Any]:
    answer = await rest.put(f"event/subscription/{name}", params=SUBSCRIBE)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@asynccontextmanager
async def tenant(**config: Any) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, BullhornSandbox]]:
    """A REST session and the /_sandbox API of one fake."""
    app, sandbox, _ = make_app(**config)
    async with client_for(app) as admin:
        rest_url, token = await log_in(admin)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=rest_url,
                                     headers={"BhRestToken": token}) as rest:
            yield rest, admin, sandbox


async def _change(admin: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None) -> None:
    answer = await admin.request(method, f"_sandbox/records/{path}", json=body)
    assert answer.status_code == 200, answer.text


async def test_subscribing_answers_the_documented_fields_and_a_jms_selector_naming_the_entities() -> None:
    async with logged_in() as (rest, _, clock):
        created = await _subscribe(rest)

        assert created["subscriptionId"] == "idx"
        assert created["lastRequestId"] == 0
        assert created["createdOn"] == int(clock.now * 1000)
        assert "BhEntityName IN ('Candidate','ClientContact')" in created["jmsSelector"]


async def test_a_record_change_arrives_once_with_its_updated_properties_and_reading_purges_it() -> None:
    async with tenant() as (rest, admin, _):
        await _subscribe(rest)
        await _change(admin, "PATCH", "Candidate/2001", {"mobile": "+1 415 555 0100"})

        first = (await rest.get("event/subscription/idx", params={"maxEvents": 100})).json()
        again = await rest.get("event/subscription/idx", params={"maxEvents": 100})

        [event] = first["events"]
        assert first["requestId"] == 1
        assert event["entityName"] == "Candidate" and event["entityId"] == 2001
        assert event["entityEventType"] == "UPDATED" and event["eventType"] == "ENTITY"
        assert set(event["updatedProperties"]) == {"mobile", "dateLastModified"}
        assert set(event["eventMetadata"]) == {"PERSON_ID", "TRANSACTION_ID"}
        assert again.status_code == 200 and again.content == b""


async def test_inserts_and_soft_deletes_are_published_and_soft_deletes_come_as_updated_is_deleted() -> None:
    async with tenant() as (rest, admin, sandbox):
        await _subscribe(rest)
        await _change(admin, "PUT", "ClientContact/3999", {"name": "New Person", "phone": "555"})
        await _change(admin, "DELETE", "Candidate/2001")
        await _change(admin, "PATCH", "Candidate/2002", {"status": "Archived"})  # unchanged: no event

        events = (await rest.get("event/subscription/idx", params={"maxEvents": 10})).json()["events"]

        assert [(e["entityId"], e["entityEventType"]) for e in events] == [(3999, "INSERTED"), (2001, "UPDATED")]
        assert "isDeleted" in events[1]["updatedProperties"]
        assert sandbox.table("Candidate")[2001]["isDeleted"] is True


async def test_at_most_100_events_come_per_read_and_a_batch_can_be_read_again_by_its_request_id() -> None:
    async with logged_in() as (rest, sandbox, _):
        await _subscribe(rest)
        for index in range(150):
            sandbox.events.publish("Candidate", 5000 + index, "INSERTED", ["id"])

        first = (await rest.get("event/subscription/idx", params={"maxEvents": 500})).json()
        second = (await rest.get("event/subscription/idx", params={"maxEvents": 500})).json()
        reread = (await rest.get("event/subscription/idx", params={"maxEvents": 500, "requestId": 1})).json()
        last = (await rest.get("event/subscription/idx/lastRequestId")).json()

        assert (len(first["events"]), len(second["events"])) == (100, 50)
        assert reread == first
        assert last == {"result": 2}


async def test_only_subscribed_entities_and_event_types_are_queued() -> None:
    async with logged_in() as (rest, sandbox, _):
        answer = await rest.put("event/subscription/c", params={**SUBSCRIBE, "names": "Candidate",
                                                                "eventTypes": "DELETED"})
        assert answer.status_code == 200
        sandbox.events.publish("Candidate", 1, "UPDATED", ["phone"])
        sandbox.events.publish("ClientContact", 2, "DELETED", [])
        sandbox.events.publish("Candidate", 3, "DELETED", [])

        events = (await rest.get("event/subscription/c", params={"maxEvents": 10})).json()["events"]

        assert [event["entityId"] for event in events] == [3]


async def test_an_unpolled_subscription_expires_and_then_answers_404() -> None:
    async with logged_in(subscription_ttl_s=3600, session_lifetime_s=10**6) as (rest, _, clock):
        await _subscribe(rest)
        clock.advance(3000)
        assert (await rest.get("event/subscription/idx", params={"maxEvents": 1})).status_code == 200
        clock.advance(3000)
        assert (await rest.get("event/subscription/idx", params={"maxEvents": 1})).status_code == 200

        clock.advance(3601)
        gone = await rest.get("event/subscription/idx", params={"maxEvents": 1})

        assert gone.status_code == 404
        assert gone.json()["errorMessageKey"] == "errors.subscriptionNotFound"


async def test_unsubscribing_drops_the_subscription_and_a_live_id_cannot_be_subscribed_twice() -> None:
    async with logged_in() as (rest, _, _):
        await _subscribe(rest)
        twice = await rest.put("event/subscription/idx", params=SUBSCRIBE)
        dropped = await rest.delete("event/subscription/idx")
        after = await rest.get("event/subscription/idx/lastRequestId")

        assert twice.status_code == 400
        assert dropped.status_code == 200
        assert after.status_code == 404


async def test_subscription_requests_need_a_session_like_every_rest_call() -> None:
    app, _, _ = make_app()
    async with client_for(app) as client:
        answer = await client.get("rest-services/nw7k2/event/subscription/idx", params={"maxEvents": 1})

    assert answer.status_code in (401, 412)


@pytest.mark.parametrize(("reading", "request_ids"), [("with_events", 0), ("every_poll", 2)])
async def test_an_empty_poll_takes_a_request_id_only_under_the_every_poll_reading(
        reading: EventRequestId, request_ids: int) -> None:
    async with logged_in(event_request_id=reading) as (rest, _, _):
        await _subscribe(rest)
        polls = [await rest.get("event/subscription/idx", params={"maxEvents": 100}) for _ in range(2)]
        last = (await rest.get("event/subscription/idx/lastRequestId")).json()
    assert [poll.content for poll in polls] == [b"", b""]
    assert last == {"result": request_ids}


@pytest.mark.parametrize(("reading", "published"), [("updated", "UPDATED"), ("deleted", "DELETED")])
async def test_a_soft_delete_is_published_as_the_reading_says(reading: SoftDelete, published: str) -> None:
    async with tenant(soft_delete=reading) as (rest, admin, _):
        await _subscribe(rest)
        await _change(admin, "DELETE", "Candidate/2001")
        [event] = (await rest.get("event/subscription/idx", params={"maxEvents": 10})).json()["events"]
    assert (event["entityId"], event["entityEventType"]) == (2001, published)


async def test_an_api_user_without_the_event_right_is_refused_with_403_and_nothing_subscribed() -> None:
    async with logged_in(event_subscriptions_allowed=False) as (rest, sandbox, _):
        refused = await rest.put("event/subscription/idx", params=SUBSCRIBE)

        assert refused.status_code == 403
        assert set(refused.json()) == {"errorMessage", "errorMessageKey", "errorCode"}
        assert refused.json()["errorCode"] == 403
        assert (await rest.get("event/subscription/idx/lastRequestId")).status_code == 404
