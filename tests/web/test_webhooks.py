from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from insight.app import create_app, running
from insight.store.tables import calls, events
from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.people import AGENTS, LINES
from tests.stack import WEBHOOK_TOKEN, Stack, demo_data, running_stack

pytestmark = pytest.mark.anyio


def _script(call_id: int, raw_digits: str, kind: CallKind = CallKind.INBOUND_ANSWERED) -> CallScript:
    return CallScript(
        call_id=call_id,
        kind=kind,
        agent=AGENTS[0],
        line=LINES[0],
        raw_digits=raw_digits,
        started_at=1_795_000_000,
        talk_s=95 if kind is not CallKind.MISSED else 0,
    )


def _envelopes(script: CallScript) -> list[dict[str, Any]]:
    return [event.envelope for event in lifecycle(script, token=WEBHOOK_TOKEN)]


def _stored_events(stack: Stack) -> int:
    with stack.store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(events)).scalar_one())


def _known_caller() -> Any:
    return next(caller for caller in demo_data().callers if caller.kind == "candidate")


async def test_an_event_with_a_good_token_is_stored_before_it_is_accepted(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        created = _envelopes(_script(1001, _known_caller().raw_digits))[0]

        response = await stack.web.post("/webhooks/aircall", json=created)

        assert response.status_code == 200
        assert response.json() == {"status": "accepted"}
        stored = stack.store.events_for_call(1001)
        assert [event.event for event in stored] == ["call.created"]
        assert json.loads(stored[0].payload) == {key: value for key, value in created.items() if key != "token"}


async def test_every_token_of_a_rotation_list_is_accepted(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        created = {**_envelopes(_script(1002, _known_caller().raw_digits))[0], "token": "old-token"}

        assert (await stack.web.post("/webhooks/aircall", json=created)).json() == {"status": "accepted"}


@pytest.mark.parametrize("token", ["wrong", "", None, 42])
async def test_a_bad_token_is_refused_and_nothing_is_stored(tmp_path: Path, token: object) -> None:
    async with running_stack(tmp_path) as stack:
        created = {**_envelopes(_script(1003, _known_caller().raw_digits))[0], "token": token}

        response = await stack.web.post("/webhooks/aircall", json=created)

        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert _stored_events(stack) == 0


async def test_a_body_that_is_not_json_is_a_400_naming_the_problem(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        response = await stack.web.post(
            "/webhooks/aircall", content=b"event=call.created", headers={"content-type": "application/json"}
        )

        assert response.status_code == 400
        assert response.json()["error"] == "not_json"
        assert response.json()["detail"].startswith("the body is not valid JSON (Expecting value")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_a_call_event_holding_a_non_json_number_is_a_400_naming_it_and_nothing_is_stored(
    tmp_path: Path, constant: str
) -> None:
    async with running_stack(tmp_path) as stack:
        created = _envelopes(_script(1006, _known_caller().raw_digits))[0]
        # what Python's json.dumps writes for float("nan"): the worker could never read it back
        body = json.dumps({**created, "data": {**created["data"], "duration": "MARK"}}).replace('"MARK"', constant)

        response = await stack.web.post("/webhooks/aircall", content=body.encode())

        assert response.status_code == 400
        assert response.json()["error"] == "not_json"
        assert constant.lstrip("-") in response.json()["detail"]
        assert _stored_events(stack) == 0


@pytest.mark.parametrize("depth", [5_000, 100_000])
async def test_deeply_nested_json_is_a_400_not_a_server_error(tmp_path: Path, depth: int) -> None:
    async with running_stack(tmp_path) as stack:
        body = f'{{"token": "{WEBHOOK_TOKEN}", "event": "call.created", "data": {"[" * depth}1{"]" * depth}}}'

        response = await stack.web.post("/webhooks/aircall", content=body.encode())

        assert response.status_code == 400
        assert response.json() == {"error": "not_json",
                                   "detail": "the body is not valid JSON (it is nested too deeply)"}
        assert _stored_events(stack) == 0


async def test_a_body_in_utf_16_is_a_400_and_only_utf_8_is_stored(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        created = _envelopes(_script(1007, _known_caller().raw_digits))[0]

        response = await stack.web.post("/webhooks/aircall", content=json.dumps(created).encode("utf-16"))

        assert response.status_code == 400
        assert response.json()["error"] == "not_json"
        assert "utf-8" in response.json()["detail"]
        assert _stored_events(stack) == 0


async def test_a_missing_call_id_is_a_422_that_names_data_id(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        created = _envelopes(_script(1004, _known_caller().raw_digits))[0]
        del created["data"]["id"]

        response = await stack.web.post("/webhooks/aircall", json=created)

        assert response.status_code == 422
        assert "data.id" in response.json()["detail"]
        assert _stored_events(stack) == 0


async def test_a_two_mebibyte_body_is_a_413_with_or_without_content_length(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        created = _envelopes(_script(1005, _known_caller().raw_digits))[0]
        created["data"]["padding"] = "x" * (2 * 1024 * 1024)
        body = json.dumps(created).encode()

        async def chunks() -> Any:
            for start in range(0, len(body), 65536):
                yield body[start : start + 65536]

        declared = await stack.web.post("/webhooks/aircall", content=body)
        streamed = await stack.web.post("/webhooks/aircall", content=chunks())

        assert declared.status_code == 413
        assert streamed.status_code == 413
        assert "Content-Length" not in streamed.request.headers
        assert declared.json()["error"] == "payload_too_large"
        assert _stored_events(stack) == 0


async def test_an_unknown_event_type_is_ignored_and_not_stored(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        contact = {"resource": "contact", "event": "contact.created", "timestamp": 1, "token": WEBHOOK_TOKEN,
                   "data": {"id": 5}}

        response = await stack.web.post("/webhooks/aircall", json=contact)

        assert response.json() == {"status": "ignored"}
        assert _stored_events(stack) == 0


async def test_a_redelivered_event_is_a_duplicate_with_no_second_effect(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        created = _envelopes(_script(1006, _known_caller().raw_digits))[0]

        first = await stack.deliver(created)
        second = await stack.deliver(created)
        await stack.settle()

        assert (first.json(), second.json()) == ({"status": "accepted"}, {"status": "duplicate"})
        assert len(stack.store.events_for_call(1006)) == 1
        assert len(stack.cards_for(1006)) == 1


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
async def test_the_card_events_in_any_order_give_exactly_one_card(tmp_path: Path, order: tuple[int, ...]) -> None:
    async with running_stack(tmp_path) as stack:
        card_events = [
            envelope
            for envelope in _envelopes(_script(1007, _known_caller().raw_digits))
            if envelope["event"] in {"call.created", "call.ringing_on_agent", "call.answered"}
        ]
        assert len(card_events) == 3

        for index in order:
            await stack.deliver(card_events[index])
        await stack.settle()

        assert len(stack.cards_for(1007)) == 1


async def test_a_known_caller_gets_a_card_naming_the_record_and_linking_to_it(tmp_path: Path) -> None:
    caller = _known_caller()
    entity, record_id = caller.expected[0]
    record = demo_data().candidates[record_id]
    async with running_stack(tmp_path) as stack:
        await stack.deliver(_envelopes(_script(1008, caller.raw_digits))[0])
        await stack.settle()

        [card] = stack.cards_for(1008)
        title = card["contents"][0]
        assert title["type"] == "title"
        assert record["lastName"] in title["text"]
        assert f"Entity={entity}" in title["link"] and f"id={record_id}" in title["link"]
        with stack.store.engine.connect() as connection:
            row = connection.execute(select(calls).where(calls.c.call_id == 1008)).one()
        assert row.card_status == "pushed"
        assert row.phone_e164 == caller.e164
        assert row.match_json["matches"][0]["id"] == record_id


async def test_an_anonymous_caller_gets_a_no_match_card_without_a_bullhorn_search(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await stack.deliver(_envelopes(_script(1009, "anonymous", CallKind.MISSED))[0])
        await stack.settle()

        [card] = stack.cards_for(1009)
        assert card["contents"][0]["text"].startswith("No Bullhorn match")
        assert stack.searches() == 0


async def test_an_unknown_caller_gets_a_no_match_card_naming_the_number(tmp_path: Path) -> None:
    unknown = next(caller for caller in demo_data().callers if caller.kind == "unknown")
    async with running_stack(tmp_path) as stack:
        await stack.deliver(_envelopes(_script(1010, unknown.raw_digits))[0])
        await stack.settle()

        [card] = stack.cards_for(1010)
        assert card["contents"][0]["text"] == f"No Bullhorn match for {unknown.raw_digits}"


async def test_a_card_aircall_refuses_is_recorded_as_failed_and_the_webhook_still_succeeds(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        created = _envelopes(_script(1011, _known_caller().raw_digits))[0]

        response = await stack.web.post("/webhooks/aircall", json=created)  # the call is unknown to Aircall
        await stack.settle()

        assert response.json() == {"status": "accepted"}
        with stack.store.engine.connect() as connection:
            row = connection.execute(select(calls).where(calls.c.call_id == 1011)).one()
        assert row.card_status == "failed"
        assert "Insight Card not shown" in row.explanation


async def test_a_second_call_from_the_same_number_is_answered_from_the_cache(tmp_path: Path) -> None:
    caller = _known_caller()
    async with running_stack(tmp_path) as stack:
        await stack.deliver(_envelopes(_script(1012, caller.raw_digits))[0])
        await stack.settle()
        await stack.deliver(_envelopes(_script(1013, caller.raw_digits))[0])
        await stack.settle()

        # one live lookup: Candidate and ClientContact searched once each
        assert stack.searches() == 2
        assert len(stack.cards_for(1013)) == 1


async def test_a_card_event_whose_commit_failed_is_refused_and_its_redelivery_pushes_no_second_card(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack:
        created = _envelopes(_script(1014, _known_caller().raw_digits))[0]
        failures = ["disk I/O error"]

        def fail_once(_connection: Any) -> None:
            if failures:
                raise OperationalError("COMMIT", {}, Exception(failures.pop()))

        event.listen(stack.store.engine, "commit", fail_once)
        refused = await stack.deliver(created)
        await stack.settle()
        redelivered = await stack.deliver(created)
        await stack.settle()

        # the claim was decided before the commit, so the card went out with the first delivery
        assert refused.status_code == 503
        assert redelivered.json() == {"status": "accepted"}
        assert len(stack.store.events_for_call(1014)) == 1
        assert len(stack.cards_for(1014)) == 1


async def test_two_replicas_on_one_store_push_one_card_when_each_gets_one_card_event(tmp_path: Path) -> None:
    # SQLite only: in one test process both replicas share one event loop, and a PostgreSQL writer's
    # statements (run on the loop) would wait for the other's row lock while that one's COMMIT waits for
    # the loop; as processes, replicas never share a loop
    script = _script(1015, _known_caller().raw_digits)
    created, ringing = [envelope for envelope in _envelopes(script)
                        if envelope["event"] in {"call.created", "call.ringing_on_agent"}]
    async with running_stack(tmp_path) as stack:
        replica_app = create_app(stack.settings, bullhorn=stack.services.bullhorn, aircall=stack.aircall_client,
                                 store=stack.store)
        async with running(replica_app) as replica, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=replica.asgi), base_url="http://replica.test"
        ) as replica_web:
            stack.aircall.calls[1015] = dict(created["data"])
            answers = await asyncio.gather(stack.web.post("/webhooks/aircall", json=created),
                                           replica_web.post("/webhooks/aircall", json=ringing))
            await stack.settle()
            await replica.services.cards.drain()
            await replica.services.intake.flush()

        assert [answer.json() for answer in answers] == [{"status": "accepted"}] * 2
        assert len(stack.cards_for(1015)) == 1
