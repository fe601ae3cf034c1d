from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from insight.web.signing import card_url
from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.people import AGENTS, LINES
from tests.stack import WEBHOOK_TOKEN, Stack, demo_data, running_stack

pytestmark = pytest.mark.anyio

HOSTILE = "<script>alert(1)</script>"


def _candidate_caller() -> Any:
    return next(caller for caller in demo_data().callers if caller.kind == "candidate")


async def _ring(stack: Stack, call_id: int, raw_digits: str) -> None:
    script = CallScript(
        call_id=call_id,
        kind=CallKind.INBOUND_ANSWERED,
        agent=AGENTS[0],
        line=LINES[0],
        raw_digits=raw_digits,
        started_at=1_795_000_000,
        talk_s=60,
    )
    await stack.deliver(lifecycle(script, token=WEBHOOK_TOKEN)[0].envelope)
    await stack.settle()


async def test_the_insight_api_needs_the_api_key(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        missing = await stack.web.get("/api/insight", params={"phone": "+14155550123"})
        wrong = await stack.web.get(
            "/api/insight", params={"phone": "+14155550123"}, headers={"Authorization": "Bearer nope"}
        )

        assert (missing.status_code, wrong.status_code) == (401, 401)
        assert missing.json()["error"] == "unauthorized"


async def test_the_ops_api_refuses_everyone_when_no_api_key_is_configured(tmp_path: Path) -> None:
    async with running_stack(tmp_path, CALLBRIDGE_API_KEY="") as stack:
        response = await stack.web.get("/api/insight", params={"phone": "+14155550123"}, headers=stack.api_headers)

        assert response.status_code == 401
        assert "CALLBRIDGE_API_KEY" in response.json()["detail"]


@pytest.mark.parametrize("phone", ["", "call me", "12", "anonymous"])
async def test_an_unparseable_phone_is_a_400_that_says_why(tmp_path: Path, phone: str) -> None:
    async with running_stack(tmp_path) as stack:
        response = await stack.web.get("/api/insight", params={"phone": phone}, headers=stack.api_headers)

        assert response.status_code == 400
        assert response.json()["error"] == "invalid_phone"


async def test_a_number_in_any_format_finds_the_same_record(tmp_path: Path) -> None:
    caller = _candidate_caller()
    entity, record_id = caller.expected[0]
    national = caller.e164[2:] if caller.e164.startswith("+1") else None
    forms = [caller.e164, caller.raw_digits, "00" + caller.e164[1:]] + ([national] if national else [])
    async with running_stack(tmp_path) as stack:
        for form in forms:
            response = await stack.web.get("/api/insight", params={"phone": form}, headers=stack.api_headers)

            assert response.status_code == 200, form
            card = response.json()
            assert card["phone"] == caller.e164
            assert (card["matches"][0]["entity"], card["matches"][0]["id"]) == (entity, record_id)
            assert "call_id" not in card and "card_url" not in card
        # one live lookup: Candidate and ClientContact searched once each
        assert stack.searches() == 2


async def test_the_card_json_has_the_contract_fields(tmp_path: Path) -> None:
    caller = _candidate_caller()
    async with running_stack(tmp_path) as stack:
        card = (await stack.web.get("/api/insight", params={"phone": caller.e164}, headers=stack.api_headers)).json()

        assert set(card) == {"phone", "matches", "more", "cached", "looked_up_at", "context"}
        assert set(card["matches"][0]) == {
            "entity", "id", "name", "owner", "company", "status", "phone_field", "link",
        }
        assert card["matches"][0]["link"].startswith("http://127.0.0.1/ats/BullhornSTAFFING/OpenWindow.cfm?")
        assert card["looked_up_at"].endswith("Z")
        assert card["cached"] is False


async def test_a_shared_number_lists_every_match_ranked_and_counts_the_rest(tmp_path: Path) -> None:
    switchboard = next(caller for caller in demo_data().callers if caller.kind == "switchboard")
    async with running_stack(tmp_path) as stack:
        card = (
            await stack.web.get("/api/insight", params={"phone": switchboard.e164}, headers=stack.api_headers)
        ).json()

        shown = [(match["entity"], match["id"]) for match in card["matches"]]
        assert shown + [None] * card["more"] == list(switchboard.expected[: len(shown)]) + [None] * card["more"]
        assert len(shown) + card["more"] == len(switchboard.expected)


async def test_a_call_card_carries_the_call_id_and_a_signed_html_link(tmp_path: Path) -> None:
    caller = _candidate_caller()
    async with running_stack(tmp_path) as stack:
        await _ring(stack, 2001, caller.raw_digits)

        response = await stack.web.get("/api/calls/2001/insight", headers=stack.api_headers)

        card = response.json()
        assert card["call_id"] == 2001
        assert card["cached"] is True
        assert card["card_url"].startswith("http://callbridge.test/cards/2001?exp=")
        page = await stack.web.get(urlsplit(card["card_url"])._replace(scheme="", netloc="").geturl())
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")


async def test_an_unknown_call_is_a_404(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        response = await stack.web.get("/api/calls/999/insight", headers=stack.api_headers)

        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


async def test_the_html_card_renders_a_hostile_name_inert_with_a_strict_policy(tmp_path: Path) -> None:
    caller = _candidate_caller()
    _entity, record_id = caller.expected[0]
    async with running_stack(tmp_path) as stack:
        record = dict(demo_data().candidates[record_id], firstName=HOSTILE, lastName="", name=HOSTILE)
        put = await stack.bullhorn_admin.put(f"/_sandbox/records/Candidate/{record_id}", json=record)
        assert put.status_code == 200
        await _ring(stack, 2002, caller.raw_digits)
        link = card_url("", 2002, key=stack.settings.signing_key.get(), now=time.time())

        page = await stack.web.get(link)

        assert page.status_code == 200
        assert HOSTILE not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert 'http-equiv="refresh"' in page.text
        links = re.findall(r"https?://[^\s\"'<>]+", page.text)
        assert links and all(link.startswith("http://127.0.0.1/ats/") for link in links)


@pytest.mark.parametrize("tamper", ["sig", "exp", "expired", "missing"])
async def test_a_bad_or_expired_card_signature_is_a_403(tmp_path: Path, tamper: str) -> None:
    caller = _candidate_caller()
    async with running_stack(tmp_path) as stack:
        await _ring(stack, 2003, caller.raw_digits)
        now = time.time() - (13 * 3600 if tamper == "expired" else 0)
        params = {k: v[0] for k, v in parse_qs(urlsplit(card_url("", 2003, key="k", now=now)).query).items()}
        good = {k: v[0] for k, v in parse_qs(
            urlsplit(card_url("", 2003, key=stack.settings.signing_key.get(), now=now)).query
        ).items()}
        query = {
            "sig": {**good, "sig": params["sig"]},
            "exp": {**good, "exp": str(int(good["exp"]) + 60)},
            "expired": good,
            "missing": {},
        }[tamper]

        page = await stack.web.get("/cards/2003", params=query)

        assert page.status_code == 403
        assert page.json()["error"] == "forbidden"
