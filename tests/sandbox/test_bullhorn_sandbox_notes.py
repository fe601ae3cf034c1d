from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.bullhorn_sandbox_kit import T0, logged_in

pytestmark = pytest.mark.anyio

NOTE = {"personReference": {"id": 2001}, "commentingPerson": {"id": 101}, "action": "Outbound Call",
        "comments": "<p>Outbound</p>", "minutesSpent": 3, "dateAdded": 1_794_999_000_000,
        "externalID": "aircall:123"}


async def put_note(rest: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    return await rest.put("entity/Note", json={**NOTE, **changes})


async def test_put_note_answers_insert_with_data_and_messages_and_links_every_person() -> None:
    async with logged_in() as (rest, sandbox, _):
        answer = await put_note(rest, candidates=[{"id": 2002}], clientContacts=[{"id": 3001}])
        body = answer.json()
        note_id = body["changedEntityId"]
        read = await rest.get(f"entity/Note/{note_id}", params={
            "fields": "id,personReference,commentingPerson(id),candidates(id),clientContacts(id),externalID"})
    assert answer.status_code == 200
    assert body["changedEntityType"] == "Note" and body["changeType"] == "INSERT"
    assert body["messages"] == []
    assert body["data"]["externalID"] == "aircall:123"
    assert sorted(link.target_id for link in sandbox.links.values()) == [2001, 2002, 3001]
    assert read.json()["data"] == {
        "id": note_id, "externalID": "aircall:123", "commentingPerson": {"id": 101, "_subtype": "CorporateUser"},
        "personReference": {"id": 2001, "firstName": "Ada", "lastName": "Lovelace", "_subtype": "Candidate"},
        "candidates": {"total": 2, "data": [{"id": 2001}, {"id": 2002}]},
        "clientContacts": {"total": 1, "data": [{"id": 3001}]}}


async def test_commenting_person_defaults_to_the_api_user() -> None:
    async with logged_in() as (rest, sandbox, _):
        body = {key: value for key, value in NOTE.items() if key != "commentingPerson"}
        answer = await rest.put("entity/Note", json=body)
    assert sandbox.notes[answer.json()["changedEntityId"]]["commentingPerson"] == {"id": sandbox.config.api_user_id}


async def test_a_single_object_for_a_to_many_field_is_a_warning_and_is_not_applied() -> None:
    async with logged_in() as (rest, sandbox, _):
        answer = await put_note(rest, clientContacts={"id": 3001})
    assert answer.status_code == 200
    [message] = answer.json()["messages"]
    assert message["type"] == "ATTEMPT_TO_SET_TO_MANY" and message["severity"] == "WARNING"
    assert message["propertyName"] == "clientContacts"
    assert [link.target_id for link in sandbox.links.values()] == [2001]


@pytest.mark.parametrize(("changes", "property_name", "error_type"), [
    ({"personReference": None}, "personReference", "MISSING_VALUE"),
    ({"personReference": {"id": 424242}}, "personReference", "INVALID_VALUE"),
    ({"commentingPerson": {"id": 2001}}, "commentingPerson", "INVALID_VALUE"),
    ({"comments": None}, "comments", "MISSING_VALUE"),
    ({"action": "Follow up with hiring manager re Q3"}, "action", "INVALID_SIZE"),
    ({"minutesSpent": 2.5}, "minutesSpent", "INVALID_TYPE"),
    ({"externalID": "x" * 101}, "externalID", "INVALID_SIZE"),
    ({"callId": 1}, "callId", "INVALID_FIELD"),
    ({"dateLastModified": 1}, "dateLastModified", "READ_ONLY"),
    ({"candidates": [{"id": 3001}]}, "candidates", "INVALID_VALUE"),
])
async def test_put_note_refuses_what_bullhorn_refuses_and_writes_nothing(
    changes: dict[str, Any], property_name: str, error_type: str,
) -> None:
    async with logged_in() as (rest, sandbox, _):
        answer = await put_note(rest, **changes)
    assert answer.status_code == 400
    body = answer.json()
    assert body["entityName"] == "Note" and body["errorCode"] == 400
    assert {"propertyName": property_name, "severity": "ERROR", "type": error_type} in body["errors"]
    assert sandbox.notes == {} and sandbox.links == {}


async def test_an_integral_float_minutes_spent_is_stored_as_an_integer() -> None:
    async with logged_in() as (rest, sandbox, _):
        answer = await put_note(rest, minutesSpent=4.0)
    assert sandbox.notes[answer.json()["changedEntityId"]]["minutesSpent"] == 4


async def test_linking_the_person_reference_again_answers_500_duplicate_value_and_keeps_the_note() -> None:
    async with logged_in() as (rest, sandbox, _):
        note_id = (await put_note(rest)).json()["changedEntityId"]
        duplicate = await rest.put("entity/NoteEntity", json={
            "note": {"id": note_id}, "targetEntityID": 2001, "targetEntityName": "User"})
        other = await rest.put("entity/NoteEntity", json={
            "note": {"id": note_id}, "targetEntityID": 3001, "targetEntityName": "User"})
        links = await rest.get("query/NoteEntity", params={"where": f"note.id={note_id}", "orderBy": "id",
                                                           "fields": "id,targetEntityID,targetEntityName"})
    assert duplicate.status_code == 500
    assert duplicate.json()["errors"] == [{"propertyName": None, "severity": "ERROR", "type": "DUPLICATE_VALUE"}]
    assert duplicate.json()["entityName"] == "NoteEntity"
    assert note_id in sandbox.notes
    assert other.status_code == 200 and other.json()["changedEntityType"] == "NoteEntity"
    assert [row["targetEntityID"] for row in links.json()["data"]] == [2001, 3001]


async def test_a_persons_notes_list_its_linked_live_notes_with_paging_and_order() -> None:
    async with logged_in() as (rest, _, clock):
        first = (await put_note(rest, externalID="aircall:1", dateAdded=1)).json()["changedEntityId"]
        clock.advance(1)
        second = (await put_note(rest, externalID="aircall:2", dateAdded=2,
                                 personReference={"id": 3001}, candidates=[{"id": 2001}])).json()["changedEntityId"]
        deleted = (await put_note(rest, externalID="aircall:3")).json()["changedEntityId"]
        await rest.post(f"entity/Note/{deleted}", json={"isDeleted": True})
        listing = await rest.get("entity/Candidate/2001/notes", params={
            "fields": "id,externalID,dateAdded", "orderBy": "-dateAdded", "count": 1})
        everything = await rest.get("entity/Candidate/2001/notes", params={"fields": "id", "start": 0})
        contact = await rest.get("entity/ClientContact/3001/notes", params={"fields": "id,externalID"})
    assert listing.json() == {"total": 2, "start": 0, "count": 1,
                              "data": [{"id": second, "externalID": "aircall:2", "dateAdded": 2}]}
    assert [row["id"] for row in everything.json()["data"]] == [first, second]
    assert contact.json()["data"] == [{"id": second, "externalID": "aircall:2"}]


async def test_post_note_updates_in_place_and_refuses_read_only_fields() -> None:
    async with logged_in() as (rest, sandbox, clock):
        note_id = (await put_note(rest)).json()["changedEntityId"]
        clock.advance(60)
        update = await rest.post(f"entity/Note/{note_id}", json={"action": "Left Message", "minutesSpent": 5})
        read_only = await rest.post(f"entity/Note/{note_id}", json={"id": 7})
        missing = await rest.post("entity/Note/999999", json={"action": "Left Message"})
    assert update.json() == {"changedEntityType": "Note", "changedEntityId": note_id, "changeType": "UPDATE",
                             "data": {"action": "Left Message", "minutesSpent": 5}, "messages": []}
    note = sandbox.notes[note_id]
    assert (note["action"], note["minutesSpent"], note["comments"]) == ("Left Message", 5, NOTE["comments"])
    assert note["dateLastModified"] == int((T0 + 60) * 1000)
    assert read_only.status_code == 400
    assert missing.status_code == 404
    assert len(sandbox.notes) == 1


async def test_to_many_fields_in_an_update_are_a_warning_and_not_applied() -> None:
    async with logged_in() as (rest, sandbox, _):
        note_id = (await put_note(rest)).json()["changedEntityId"]
        answer = await rest.post(f"entity/Note/{note_id}", json={"clientContacts": [{"id": 3001}]})
    assert answer.json()["messages"][0]["type"] == "ATTEMPT_TO_SET_TO_MANY"
    assert [link.target_id for link in sandbox.links.values()] == [2001]


async def test_note_edits_answer_403_when_the_api_user_may_not_edit_notes() -> None:
    async with logged_in(note_edit_allowed=False) as (rest, sandbox, _):
        note_id = (await put_note(rest)).json()["changedEntityId"]
        answer = await rest.post(f"entity/Note/{note_id}", json={"action": "Left Message"})
    assert answer.status_code == 403
    assert answer.json()["errorCode"] == 403 and "permission" in answer.json()["errorMessage"]
    assert sandbox.notes[note_id]["action"] == "Outbound Call"


async def test_notes_are_searchable_by_external_id_until_soft_deleted() -> None:
    async with logged_in() as (rest, _, _):
        note_id = (await put_note(rest)).json()["changedEntityId"]
        query = {"query": 'externalID:"aircall:123" AND isDeleted:false', "fields": "id,externalID"}
        before = await rest.post("search/Note", json=query)
        await rest.post(f"entity/Note/{note_id}", json={"isDeleted": True})
        after = await rest.post("search/Note", json=query)
        by_person = await rest.get("search/Note", params={"query": "personReferenceID:2001"})
    assert before.json()["data"] == [{"_score": 1.0, "id": note_id, "externalID": "aircall:123"}]
    assert after.json()["total"] == 0
    assert by_person.json()["total"] == 1
