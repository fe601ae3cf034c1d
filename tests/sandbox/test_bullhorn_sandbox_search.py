from __future__ import annotations

import pytest

from sandbox.readings import MultiGet
from tests.bullhorn_sandbox_kit import BASE, logged_in

pytestmark = pytest.mark.anyio


async def test_a_digits_only_phone_term_misses_a_number_stored_with_punctuation() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("search/Candidate", params={"query": "phone:4155550123"})
    assert answer.status_code == 200
    assert answer.json() == {"total": 0, "start": 0, "count": 0, "data": []}


async def test_a_phrase_of_the_digit_groups_finds_the_stored_number() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.post("search/Candidate", params={"fields": "id,phone"},
                                 json={"query": 'phone:"415 555 0123" AND isDeleted:false'})
    assert answer.json()["data"] == [{"_score": 1.0, "id": 2001, "phone": "(415) 555-0123"}]


async def test_search_without_fields_answers_ids_and_scores_only() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.post("search/ClientContact", json={"query": 'phone:"7946 0958"'})
    assert answer.json()["data"] == [{"_score": 1.0, "id": 3001}]


async def test_fields_select_nested_sub_fields_of_to_one_associations() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("search/ClientContact", params={
            "query": "id:3001", "fields": "id,name,owner(id,firstName,email),clientCorporation(id,name,phone)"})
    assert answer.json()["data"][0] == {
        "_score": 1.0, "id": 3001, "name": "Mary Somerville",
        "owner": {"id": 101, "firstName": "Grace", "email": "grace.hopper@northwind-staffing.com"},
        "clientCorporation": {"id": 10, "name": "Analytical Engines Ltd", "phone": "020 7946 0000"}}


async def test_an_unknown_field_in_fields_answers_400() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("search/Candidate", params={"query": "id:2001", "fields": "id,clientCorporation"})
    assert answer.status_code == 400
    assert "clientCorporation" in answer.json()["errorMessage"]


async def test_an_unknown_field_in_the_query_answers_400() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("search/Candidate", params={"query": "shoeSize:42"})
    assert answer.status_code == 400


async def test_a_query_that_does_not_parse_answers_400() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("search/Candidate", params={"query": "phone:(415"})
    assert answer.status_code == 400


async def test_search_sorts_pages_and_counts_the_total() -> None:
    async with logged_in() as (rest, _, _):
        query: dict[str, str | int] = {"query": "phone:415 OR mobile:415", "sort": "-dateLastModified", "count": 1}
        first = await rest.get("search/Candidate", params=query)
        second = await rest.get("search/Candidate", params={**query, "start": 1})
    assert first.json()["total"] == 2
    assert [page.json()["data"][0]["id"] for page in (first, second)] == [2002, 2001]
    assert second.json()["start"] == 1 and second.json()["count"] == 1


async def test_search_without_parameters_lists_the_searchable_fields() -> None:
    async with logged_in() as (rest, _, _):
        candidate = await rest.get("search/Candidate")
        note = await rest.get("search/Note")
    assert {"phone", "mobile", "workPhone", "owner.id", "isDeleted"} <= set(candidate.json()["fields"])
    assert {"noteID", "externalID", "personReferenceID", "isDeleted"} <= set(note.json()["fields"])


async def test_search_on_an_unknown_entity_answers_404_and_on_a_query_only_one_400() -> None:
    async with logged_in() as (rest, _, _):
        unknown = await rest.get("search/Spaceship", params={"query": "id:1"})
        query_only = await rest.get("search/CorporateUser", params={"query": "id:1"})
    assert unknown.status_code == 404
    assert query_only.status_code == 400


async def test_query_corporate_user_by_email_ignores_case() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("query/CorporateUser", params={
            "where": "email='alan.turing@northwind-staffing.com'", "fields": "id,email,enabled,isDeleted",
            "orderBy": "id"})
    body = answer.json()
    assert answer.status_code == 200
    assert [row["id"] for row in body["data"]] == [102, 902]
    assert body["start"] == 0 and body["count"] == 2


async def test_query_compares_case_sensitively_when_configured_to() -> None:
    async with logged_in(case_insensitive_where=False) as (rest, _, _):
        answer = await rest.post("query/CorporateUser",
                                 json={"where": "email='alan.turing@northwind-staffing.com' AND isDeleted=false"})
    assert answer.json()["data"] == []


async def test_query_on_candidate_and_note_is_refused_as_bullhorn_does() -> None:
    async with logged_in() as (rest, _, _):
        candidate = await rest.get("query/Candidate", params={"where": "id=2001"})
        note = await rest.get("query/Note", params={"where": "id=1"})
    assert candidate.status_code == 400
    assert candidate.json()["errorMessage"] == "Query operation not supported for Candidate"
    assert note.status_code == 400


async def test_query_on_an_unknown_field_answers_400() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("query/ClientContact", params={"where": "shoeSize=42"})
    assert answer.status_code == 400


async def test_entity_get_answers_one_record_or_a_list_for_several_ids() -> None:
    async with logged_in() as (rest, _, _):
        one = await rest.get("entity/Candidate/2001", params={"fields": "id,name,owner(id,lastName)"})
        several = await rest.get("entity/Candidate/2001,2002", params={"fields": "id,status"})
        missing = await rest.get("entity/Candidate/9999", params={"fields": "id"})
    assert one.json() == {"data": {"id": 2001, "name": "Ada Lovelace", "owner": {"id": 101, "lastName": "Hopper"}}}
    assert several.json() == {"data": [{"id": 2001, "status": "Active"}, {"id": 2002, "status": "Archived"}]}
    assert missing.status_code == 404


async def test_settings_answer_the_comment_action_list() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("settings/commentActionList")
    assert answer.json() == {"commentActionList": ["Outbound Call", "Inbound Call", "Left Message"]}


@pytest.mark.parametrize(("reading", "without_count"), [("all", 25), ("count_20", 20)])
async def test_a_multi_id_get_answers_every_id_when_count_is_sent_whatever_the_reading(
        reading: MultiGet, without_count: int) -> None:
    async with logged_in(multi_get=reading) as (rest, sandbox, _):
        ids = list(range(7001, 7026))
        for record_id in ids:
            sandbox.table("Candidate")[record_id] = {"id": record_id, "name": f"Person {record_id}"}
        path = "entity/Candidate/" + ",".join(map(str, ids))
        bare = (await rest.get(path, params={"fields": "id"})).json()["data"]
        counted = (await rest.get(path, params={"fields": "id", "count": len(ids)})).json()["data"]
    assert len(bare) == without_count
    assert [record["id"] for record in counted] == ids


async def test_pages_of_one_query_see_a_record_written_between_them() -> None:
    async with logged_in() as (rest, _, _):
        query: dict[str, str | int] = {"query": "id:[1 TO *]", "sort": "id", "count": 1, "fields": "id,phone"}
        first = await rest.get("search/Candidate", params=query)
        changed = await rest.patch(f"{BASE}_sandbox/records/Candidate/2002", json={"phone": "(415) 555-0177"})
        added = await rest.put(f"{BASE}_sandbox/records/Candidate/2003", json={"name": "Mary Shelley"})
        second = await rest.get("search/Candidate", params={**query, "start": 1, "count": 2})
    assert changed.status_code == added.status_code == 200
    assert first.json()["total"] == 2
    assert second.json()["total"] == 3
    assert [(row["id"], row.get("phone")) for row in second.json()["data"]] == [(2002, "(415) 555-0177"),
                                                                                 (2003, None)]
