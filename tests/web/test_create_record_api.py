from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from insight.store.phone_index import PhoneIndex
from sandbox import people
from tests.index_kit import build, keeper_for, searches
from tests.message_kit import Text, conversation_rows, deliver_all, message_worker, sms_notes, texts
from tests.stack import Stack, running_stack
from tests.worker_kit import CallKind, caller, notes_of, play, row, script

pytestmark = pytest.mark.anyio

CANDIDATE = {"entity": "Candidate", "first_name": "Rosa", "last_name": "Parks"}


async def _unmatched_call(stack: Stack, call_id: int, raw_digits: str) -> None:
    await play(stack, script(call_id, raw_digits, CallKind.INBOUND_ANSWERED, by=people.AGENTS[1]))
    assert (await (await stack.worker()).run_once())["unmatched"] == 1


async def _create(stack: Stack, call_id: int, body: Any) -> Any:
    return await stack.web.post(f"/api/calls/{call_id}/create-record", json=body, headers=stack.api_headers)


async def test_a_record_created_for_an_unknown_caller_gets_the_calls_note(tmp_path: Path) -> None:
    stranger = caller("unknown")
    async with running_stack(tmp_path) as stack:
        await _unmatched_call(stack, 7001, stranger.raw_digits)

        answer = await _create(stack, 7001, CANDIDATE)
        assert answer.status_code == 201, answer.text
        new_id = answer.json()["id"]
        assert (await (await stack.worker()).run_once())["synced"] == 1

        created = stack.bullhorn.data.candidates[new_id]
        assert (created["firstName"], created["lastName"], created["name"]) == ("Rosa", "Parks", "Rosa Parks")
        assert stranger.e164 in (created["phone"], created["mobile"])
        assert created["owner"]["id"] == people.AGENTS[1].bullhorn_id
        [note] = notes_of(stack, 7001)
        assert note["personReference"] == {"id": new_id}
        assert row(stack, 7001)["status"] == "synced"


async def test_a_contact_is_created_in_the_company_picked_from_the_company_search(tmp_path: Path) -> None:
    stranger = caller("unknown")
    async with running_stack(tmp_path) as stack:
        company = next(iter(stack.bullhorn.data.companies.values()))
        await _unmatched_call(stack, 7002, stranger.raw_digits)
        found = await stack.web.get("/api/companies", params={"q": company["name"].split()[0][:4]},
                                    headers=stack.api_headers)
        assert found.status_code == 200
        assert {"id": company["id"], "name": company["name"]} in found.json()["companies"]

        answer = await _create(stack, 7002, {"entity": "ClientContact", "first_name": "Ann", "last_name": "Lee",
                                             "client_corporation_id": company["id"]})

        assert answer.status_code == 201, answer.text
        contact = stack.bullhorn.data.contacts[answer.json()["id"]]
        assert contact["clientCorporation"]["id"] == company["id"]


async def test_the_created_record_is_in_the_phone_index_at_once(tmp_path: Path) -> None:
    stranger = caller("unknown")
    async with running_stack(tmp_path) as stack:
        await build(keeper_for(stack))
        await _unmatched_call(stack, 7003, stranger.raw_digits)

        new_id = (await _create(stack, 7003, CANDIDATE)).json()["id"]

        assert [entry.facts.id for entry in PhoneIndex(stack.store.engine).find(stranger.e164)] == [new_id]
        before = searches(stack, "Candidate")
        card = await stack.web.get("/api/insight", params={"phone": stranger.e164}, headers=stack.api_headers)
        assert [match["id"] for match in card.json()["matches"]] == [new_id]
        assert searches(stack, "Candidate") == before


@pytest.mark.parametrize(("body", "field"), [
    ({"entity": "Candidate", "last_name": "Parks"}, "first_name"),
    ({"entity": "Candidate", "first_name": "Rosa", "last_name": "  "}, "last_name"),
    ({"entity": "Lead", "first_name": "Rosa", "last_name": "Parks"}, "entity"),
    ({"entity": "ClientContact", "first_name": "Rosa", "last_name": "Parks"}, "client_corporation_id"),
])
async def test_a_request_missing_what_a_record_needs_is_422_naming_the_field(
    tmp_path: Path, body: dict[str, Any], field: str,
) -> None:
    async with running_stack(tmp_path) as stack:
        await _unmatched_call(stack, 7004, caller("unknown").raw_digits)

        answer = await _create(stack, 7004, body)

        assert answer.status_code == 422
        assert answer.json()["detail"].startswith(field)
        assert "PUT entity/Candidate" not in stack.bullhorn.faults.requests


async def test_creating_a_record_for_an_unknown_call_is_404(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        answer = await _create(stack, 7999, CANDIDATE)
        assert answer.status_code == 404


async def test_creating_a_record_for_a_call_that_already_has_a_match_is_409(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7005, caller("candidate").raw_digits))
        await (await stack.worker()).run_once()

        answer = await _create(stack, 7005, CANDIDATE)

        assert answer.status_code == 409
        assert "already has a Bullhorn match" in answer.json()["detail"]
        assert "PUT entity/Candidate" not in stack.bullhorn.faults.requests


async def test_an_sms_from_an_unknown_number_is_logged_once_a_record_is_created_for_its_caller(
    tmp_path: Path,
) -> None:
    stranger = caller("unknown")
    async with running_stack(tmp_path) as stack:
        await deliver_all(stack, texts(stranger.raw_digits, Text(0, True, "Hi, who do I talk to about shifts?")))
        messages = message_worker(stack)
        assert await messages.run_once() == {"unmatched": 1}
        await _unmatched_call(stack, 7006, stranger.raw_digits)

        answer = await _create(stack, 7006, CANDIDATE)
        assert answer.json()["conversations"] == 1
        assert await messages.run_once() == {"synced": 1}

        [note] = sms_notes(stack)
        assert note["personReference"] == {"id": answer.json()["id"]}
        assert conversation_rows(stack)[0]["status"] == "synced"
        await deliver_all(stack, texts(stranger.raw_digits, Text(0, True, "Hello again"), prefix="later",
                                       started_at=1_764_200_000))
        assert await messages.run_once() == {"synced": 1}
        assert len(sms_notes(stack)) == 2


@pytest.mark.parametrize("body", [b"{not json", b"[" * 100_000, b'{"entity": NaN}'])
async def test_a_create_record_body_that_is_not_json_is_400(tmp_path: Path, body: bytes) -> None:
    async with running_stack(tmp_path) as stack:
        await _unmatched_call(stack, 7007, caller("unknown").raw_digits)

        answer = await stack.web.post("/api/calls/7007/create-record", content=body,
                                      headers={**stack.api_headers, "Content-Type": "application/json"})

        assert answer.status_code == 400
        assert answer.json()["error"] == "not_json"
