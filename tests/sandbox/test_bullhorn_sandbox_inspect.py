from __future__ import annotations

import time

import pytest

from tests.bullhorn_sandbox_kit import BASE, logged_in

pytestmark = pytest.mark.anyio

NOTE = {"personReference": {"id": 2001}, "comments": "Outbound", "externalID": "aircall:77"}


async def test_past_the_rate_limit_bullhorn_answers_429_with_retry_after() -> None:
    async with logged_in(rate_limit_per_s=3) as (rest, sandbox, clock):
        clock.advance(5)
        statuses = [(await rest.get("ping")).status_code for _ in range(4)]
        limited = await rest.get("ping")
        clock.advance(1)
        recovered = await rest.get("ping")
    assert statuses == [200, 200, 200, 429]
    assert limited.json() == {"errorMessage": "Rate Limited -- Wait 1 second then retry request.", "errorCode": 429}
    assert limited.headers["retry-after"] == "1"
    assert recovered.status_code == 200
    assert sandbox.faults.rate_limited == 2


async def test_a_scripted_fault_posted_to_the_sandbox_hits_the_next_matching_requests() -> None:
    async with logged_in() as (rest, sandbox, _):
        posted = await rest.post(f"{BASE}_sandbox/faults", json={"endpoint": "* search/*", "status": 503, "count": 2})
        answers = [await rest.post("search/Candidate", json={"query": "id:2001"}) for _ in range(3)]
    assert posted.json()["faults"] == [
        {"endpoint": "* search/*", "status": 503, "remaining": 2, "lost_answer": False, "hold_s": 0.0}]
    assert [answer.status_code for answer in answers] == [503, 503, 200]
    assert answers[0].json()["errorCode"] == 503
    assert sandbox.faults.scripted == []


async def test_a_lost_answer_on_note_put_writes_the_note_that_the_persons_notes_then_reveal() -> None:
    async with logged_in() as (rest, sandbox, _):
        await rest.post(f"{BASE}_sandbox/faults", json={"endpoint": "PUT entity/Note", "lost_answer": True})
        lost = await rest.put("entity/Note", json=NOTE)
        notes = await rest.get("entity/Candidate/2001/notes", params={"fields": "id,externalID"})
    assert lost.status_code == 500
    assert [note["externalID"] for note in sandbox.notes.values()] == ["aircall:77"]
    assert notes.json()["data"] == [{"id": next(iter(sandbox.notes)), "externalID": "aircall:77"}]


async def test_latency_set_through_the_config_endpoint_delays_every_request() -> None:
    async with logged_in() as (rest, _, _):
        patched = await rest.patch(f"{BASE}_sandbox/config", json={"latency_ms": 40})
        started = time.perf_counter()
        await rest.get("ping")
        elapsed = time.perf_counter() - started
    assert patched.json()["latency_ms"] == 40
    assert elapsed >= 0.04


async def test_the_config_endpoint_refuses_unknown_keys_and_bad_values() -> None:
    async with logged_in() as (rest, sandbox, _):
        unknown = await rest.patch(f"{BASE}_sandbox/config", json={"latency": 5})
        bad = await rest.patch(f"{BASE}_sandbox/config", json={"error_rates": {"*": 2}})
        good = await rest.patch(f"{BASE}_sandbox/config", json={
            "note_edit_allowed": False, "rate_limit_per_s": None, "error_rates": {"PUT entity/Note": 0.1}})
        shown = await rest.get(f"{BASE}_sandbox/config")
    assert unknown.status_code == 400 and "latency" in unknown.json()["detail"]
    assert bad.status_code == 400
    assert good.status_code == 200
    assert sandbox.config.note_edit_allowed is False
    assert shown.json()["error_rates"] == {"PUT entity/Note": 0.1}
    assert "password" not in shown.json() and "client_secret" not in shown.json()


async def test_one_config_switch_refuses_event_subscriptions_and_granting_it_back_lets_them_through() -> None:
    params = {"type": "entity", "names": "Candidate", "eventTypes": "INSERTED"}
    async with logged_in() as (rest, _, _):
        old_name = await rest.patch(f"{BASE}_sandbox/config", json={"events_refused": True})
        await rest.patch(f"{BASE}_sandbox/config", json={"event_subscriptions_allowed": False})
        refused = await rest.put("event/subscription/idx", params=params)
        await rest.patch(f"{BASE}_sandbox/config", json={"event_subscriptions_allowed": True})
        granted = await rest.put("event/subscription/idx", params=params)
    assert old_name.status_code == 400
    assert (refused.status_code, granted.status_code) == (403, 200)


async def test_request_counts_are_kept_per_endpoint_with_the_logins() -> None:
    async with logged_in() as (rest, _, _):
        await rest.get("entity/Candidate/2001")
        await rest.get("entity/Candidate/2002")
        await rest.put("entity/Note", json=NOTE)
        counts = (await rest.get(f"{BASE}_sandbox/requests")).json()
    assert counts["endpoints"]["GET entity/Candidate/{id}"] == 2
    assert counts["endpoints"]["PUT entity/Note"] == 1
    assert counts["endpoints"]["POST oauth/token"] == 1
    assert counts["logins"] == 1 and counts["active_sessions"] == 1


async def test_the_notes_endpoint_shows_every_note_with_its_links() -> None:
    async with logged_in() as (rest, _, _):
        await rest.put("entity/Note", json={**NOTE, "clientContacts": [{"id": 3001}]})
        notes = (await rest.get(f"{BASE}_sandbox/notes")).json()["notes"]
    assert [(link["targetEntityID"], link["entity"]) for link in notes[0]["links"]] == [
        (2001, "Candidate"), (3001, "ClientContact")]


async def test_a_record_put_through_the_sandbox_becomes_searchable() -> None:
    async with logged_in() as (rest, _, _):
        query = {"query": 'mobile:"212 555 0147"', "fields": "id,name"}
        before = await rest.post("search/ClientContact", json=query)
        put = await rest.put(f"{BASE}_sandbox/records/ClientContact/3050", json={
            "firstName": "Nell", "lastName": "Gwyn", "name": "Nell Gwyn", "mobile": "+1 212-555-0147",
            "status": "Active"})
        after = await rest.post("search/ClientContact", json=query)
        refused = await rest.put(f"{BASE}_sandbox/records/Note/1", json={})
    assert before.json()["total"] == 0
    assert put.json()["data"]["id"] == 3050
    assert after.json()["data"] == [{"_score": 1.0, "id": 3050, "name": "Nell Gwyn"}]
    assert refused.status_code == 400


async def test_expire_sessions_makes_the_next_call_answer_401() -> None:
    async with logged_in() as (rest, _, _):
        expired = await rest.post(f"{BASE}_sandbox/expire-sessions")
        answer = await rest.get("ping")
    assert expired.json() == {"expired": 1}
    assert answer.status_code == 401


async def test_reset_forgets_notes_sessions_and_record_changes() -> None:
    async with logged_in() as (rest, sandbox, _):
        await rest.put("entity/Note", json=NOTE)
        await rest.put(f"{BASE}_sandbox/records/Candidate/2001", json={"firstName": "Changed"})
        await rest.post(f"{BASE}_sandbox/reset")
        answer = await rest.get("ping")
    assert answer.status_code == 401
    assert sandbox.notes == {} and sandbox.links == {}
    assert sandbox.data.candidates[2001]["firstName"] == "Ada"


async def test_open_window_shows_an_escaped_record_page_for_either_spelling() -> None:
    async with logged_in() as (rest, sandbox, _):
        sandbox.data.candidates[2001]["occupation"] = "<script>alert(1)</script>"
        upper = await rest.get(f"{BASE}ats/BullhornSTAFFING/OpenWindow.cfm",
                               params={"Entity": "Candidate", "id": 2001, "view": "Overview"})
        lower = await rest.get(f"{BASE}ats/BullhornSTAFFING/OpenWindow.cfm",
                               params={"entity": "ClientContact", "id": 3001})
        missing = await rest.get(f"{BASE}ats/BullhornSTAFFING/OpenWindow.cfm", params={"entity": "Candidate", "id": 1})
    assert upper.status_code == 200 and "Ada Lovelace" in upper.text
    assert "<script>" not in upper.text and "&lt;script&gt;" in upper.text
    assert lower.status_code == 200 and "Mary Somerville" in lower.text
    assert missing.status_code == 404
