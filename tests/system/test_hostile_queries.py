"""Injection through caller numbers (Lucene `search`) and agent e-mails (JPQL-like `where`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insight.domain.matching import PHONE_FIELDS, build_search_query
from insight.domain.phones import display, normalize
from sandbox.bullhorn import analyzer_for
from sandbox.lucene import compile_query
from sandbox.people import Agent
from tests.stack import demo_data, running_stack
from tests.worker_kit import notes_of, play, script

pytestmark = pytest.mark.anyio

HOSTILE_NUMBERS = [
    "*",
    "*:*",
    "+1 415 555 0123) OR (*:*",
    "+14155550123 OR isDeleted:true",
    '4155550123" OR phone:*',
    "phone:[0 TO 9]",
    "+44 20 7946 0958\\",
    "+1 (415) 555-0123 NOT status:Active",
    "0044 20 7946 0958 || id:1",
    "4155550123^10 OR *",
]
HOSTILE_EMAILS = [
    "x' OR '1'='1",
    "grace.hopper@northwind-staffing.com' OR email LIKE '%",
    "' OR isDeleted=true OR email='",
    "x'); DELETE FROM CorporateUser; --",
    "\\' OR 1=1 --",
]
#: a clause of our own making: a phone field and digits, or a phrase of digit groups
CLAUSE = r'(?:{fields}):(?:[0-9]+|"[0-9]+(?: [0-9]+)+")'


@settings(max_examples=200, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.sampled_from(HOSTILE_NUMBERS) | st.text(alphabet="0123456789 +-()*:\"'\\&|!^~[]{}ORANDT", max_size=40))
def test_a_hostile_number_is_normalised_first_so_the_query_holds_only_digit_clauses(raw: str) -> None:
    e164 = normalize(raw, "US")
    if e164 is None:
        return  # refused before any query is built (the API answers 400)
    for entity, fields in PHONE_FIELDS.items():
        query = build_search_query(entity, e164, ("Archive", "Archived"))
        clause = CLAUSE.format(fields="|".join(fields))
        excluded = ' NOT status:"Archive" NOT status:"Archived"'
        assert re.fullmatch(rf"\({clause}(?: OR {clause})*\) AND isDeleted:false{excluded}", query), query


@pytest.mark.parametrize("raw", [number for number in HOSTILE_NUMBERS if normalize(number, "US") is not None])
def test_the_sandbox_parser_matches_only_records_holding_the_number(raw: str) -> None:
    # phonenumbers finds the number inside the hostile text: that number is searched for, and only it
    e164 = normalize(raw, "US")
    assert e164 is not None
    query = compile_query(build_search_query("Candidate", e164, ("Archive",)), analyzer_for("Candidate"))
    holder = {"id": 1, "mobile": display(e164), "isDeleted": False, "status": "Active"}
    others = [
        {"id": 2, "mobile": "+1 212 555 0199", "isDeleted": False, "status": "Active"},
        {"id": 3, "mobile": display(e164), "isDeleted": True, "status": "Active"},
        {"id": 4, "mobile": display(e164), "isDeleted": False, "status": "Archive"},
        {"id": 5, "mobile": "*", "phone": "*:* OR isDeleted:true", "isDeleted": False, "status": "Active"},
    ]

    assert query(holder)
    assert [record["id"] for record in others if query(record)] == []


@pytest.mark.parametrize("raw", [number for number in HOSTILE_NUMBERS if normalize(number, "US") is None])
async def test_a_hostile_number_given_to_the_api_is_refused_without_a_search(tmp_path: Path, raw: str) -> None:
    async with running_stack(tmp_path) as stack:
        answer = await stack.web.get("/api/insight", params={"phone": raw}, headers=stack.api_headers)
        counts: dict[str, Any] = (await stack.bullhorn_admin.get("/_sandbox/requests")).json()["endpoints"]

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_phone"
    assert not any("search/" in endpoint for endpoint in counts)


async def test_a_call_by_an_agent_with_a_hostile_email_is_written_as_the_default_author(tmp_path: Path) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    mallory = Agent(aircall_id=999_001, name="Mallory", aircall_email=HOSTILE_EMAILS[0], bullhorn_email=None,
                    bullhorn_id=None)
    call = script(6_900_001, caller.raw_digits, by=mallory)
    async with running_stack(tmp_path) as stack:
        await play(stack, call)
        counts = await (await stack.worker()).run_once()
        detail = await stack.web.get(f"/api/calls/{call.call_id}", headers=stack.api_headers)
        [note] = notes_of(stack, call.call_id)

    assert counts["synced"] == 1
    assert detail.status_code == 200 and detail.json()["status"] == "synced"
    assert note["commentingPerson"]["id"] != mallory.bullhorn_id
    body = detail.json()
    assert body["agent_email"] == mallory.aircall_email  # kept as data, shown as typed
    said = [body["explanation"], *(f"{a['error']} {a['explanation']}" for a in body["attempts"])]
    assert not re.search(r"where|syntax|Traceback|JPQL|CorporateUser", " ".join(map(str, said)), re.IGNORECASE)
