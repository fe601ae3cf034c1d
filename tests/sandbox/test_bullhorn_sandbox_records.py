from __future__ import annotations

from typing import Any

import pytest

from tests.bullhorn_sandbox_kit import logged_in

pytestmark = pytest.mark.anyio


async def test_a_created_candidate_is_read_back_found_by_its_phone_and_announced_as_inserted() -> None:
    async with logged_in() as (rest, sandbox, _):
        await rest.put("event/subscription/feed", params={"type": "entity", "names": "Candidate",
                                                           "eventTypes": "INSERTED,UPDATED,DELETED"})
        answer = await rest.put("entity/Candidate", json={"firstName": "Rosa", "lastName": "Parks",
                                                          "name": "Rosa Parks", "mobile": "+14155550199",
                                                          "owner": {"id": 101}})
        new_id = answer.json()["changedEntityId"]
        read = (await rest.get(f"entity/Candidate/{new_id}", params={"fields": "id,name,mobile,owner"})).json()
        found = (await rest.post("search/Candidate", params={"fields": "id"},
                                 json={"query": "mobile:14155550199"})).json()
        events = (await rest.get("event/subscription/feed", params={"maxEvents": "10"})).json()

    assert answer.status_code == 200 and answer.json()["changeType"] == "INSERT"
    assert read["data"]["name"] == "Rosa Parks" and read["data"]["owner"]["id"] == 101
    assert [hit["id"] for hit in found["data"]] == [new_id]
    assert [(event["entityId"], event["entityEventType"]) for event in events["events"]] == [(new_id, "INSERTED")]
    assert new_id > max(sandbox.data.corporate_users)


async def test_the_owner_defaults_to_the_api_user() -> None:
    async with logged_in() as (rest, sandbox, _):
        answer = await rest.put("entity/Candidate", json={"firstName": "A", "lastName": "B", "name": "A B"})
    assert sandbox.data.candidates[answer.json()["changedEntityId"]]["owner"]["id"] == sandbox.config.api_user_id


@pytest.mark.parametrize(("entity", "body", "field"), [
    ("ClientContact", {"firstName": "A", "lastName": "B", "name": "A B"}, "clientCorporation"),
    ("ClientContact", {"firstName": "A", "lastName": "B", "clientCorporation": {"id": 999}}, "clientCorporation"),
    ("Candidate", {"firstName": "A", "shoeSize": 9}, "shoeSize"),
    ("Candidate", {"firstName": "A", "id": 5}, "id"),
])
async def test_a_create_bullhorn_would_refuse_is_400_naming_the_field_and_writes_nothing(
    entity: str, body: dict[str, Any], field: str,
) -> None:
    async with logged_in() as (rest, sandbox, _):
        before = (len(sandbox.data.candidates), len(sandbox.data.contacts))
        answer = await rest.put(f"entity/{entity}", json=body)

    assert answer.status_code == 400
    assert field in [error["propertyName"] for error in answer.json()["errors"]]
    assert (len(sandbox.data.candidates), len(sandbox.data.contacts)) == before
