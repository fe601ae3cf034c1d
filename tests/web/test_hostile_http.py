"""Hostile requests over HTTP: markup in every shown field, huge bodies, bad API keys, forged card links."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from insight.store.tables import events
from insight.web.signing import card_url
from tests.route_kit import app_operations, concrete
from tests.stack import API_KEY, Stack, demo_data, running_stack
from tests.worker_kit import caller, play, row, script

pytestmark = pytest.mark.anyio

MARKUP = {
    "firstName": "<script>alert(1)</script>",
    "lastName": "<img src=x onerror=alert(2)>",
    "companyName": '"><svg onload=alert(3)>',
    "status": "</td><b>Active</b>",
}
OWNER = "<iframe src=javascript:alert(4)>"
UNESCAPED = ("<script", "<img", "<svg", "<iframe", "</td><b>")
KNOWN_CALL = 6_900_100


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running


def _stored_events(stack: Stack) -> int:
    with stack.store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(events)).scalar_one())


def _mark_up_the_known_candidate(stack: Stack) -> tuple[str, dict[str, Any]]:
    known = caller("candidate")
    record_id = known.expected[0][1]
    record = stack.bullhorn.data.candidates[record_id]
    record.update(MARKUP, name=f"{MARKUP['firstName']} {MARKUP['lastName']}")
    owner_id = record["owner"]["id"]
    stack.bullhorn.data.corporate_users[owner_id]["firstName"] = OWNER
    stack.bullhorn.changed("Candidate", record_id)
    stack.bullhorn.changed("CorporateUser", owner_id)
    return known.raw_digits, record


async def test_markup_in_every_displayed_field_stays_data_in_json_and_cards_and_is_escaped_in_html(
    stack: Stack,
) -> None:
    raw_digits, record = _mark_up_the_known_candidate(stack)
    await play(stack, script(KNOWN_CALL, raw_digits))

    by_phone = await stack.web.get("/api/insight", params={"phone": raw_digits}, headers=stack.api_headers)
    by_call = await stack.web.get(f"/api/calls/{KNOWN_CALL}/insight", headers=stack.api_headers)
    page = await stack.web.get(httpx.URL(by_call.json()["card_url"]).raw_path.decode())
    [card] = stack.cards_for(KNOWN_CALL)

    for answer in (by_phone, by_call):
        assert answer.headers["content-type"] == "application/json"
        [match] = answer.json()["matches"]
        assert (match["name"], match["company"], match["status"]) == (
            record["name"], MARKUP["companyName"], MARKUP["status"])
        assert match["owner"].startswith(OWNER)
    lines = card["contents"]
    assert all("&lt;" not in line["text"] and "&amp;" not in line["text"] for line in lines)
    assert lines[0]["text"] == record["name"][: len(lines[0]["text"]) - 1] + "…"
    shown = " ".join(line["text"] for line in lines)
    assert "<svg" in shown and "<iframe" in shown  # verbatim (the card lines are JSON text, not markup)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src" in page.headers["content-security-policy"] or "default-src" in page.headers[
        "content-security-policy"]
    assert [tag for tag in UNESCAPED if tag in page.text] == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_one_mebibyte_is_413_on_every_post_route_and_nothing_is_stored(
    stack: Stack, chunked: bool
) -> None:
    await play(stack, script(KNOWN_CALL, caller("candidate").raw_digits))
    before, status = _stored_events(stack), row(stack, KNOWN_CALL)["status"]
    body = b'{"token": "x", "pad": "' + b"a" * (1024 * 1024 + 1) + b'"}'

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    posts = sorted(path for method, path in app_operations(stack.app.routes) if method == "POST")
    for path in posts:
        answer = await stack.web.post(concrete(path, KNOWN_CALL), content=stream() if chunked else body,
                                      headers={**stack.api_headers, "Content-Type": "application/json"})
        if chunked and not path.startswith("/webhooks/"):
            # a handler that never reads its body never holds it: it answers as if there were none
            assert answer.status_code < 500, path
            continue
        assert answer.status_code == 413, path
        assert answer.json()["error"] == "payload_too_large"
    assert _stored_events(stack) == before
    assert row(stack, KNOWN_CALL)["status"] == status


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Basic {API_KEY}", f"Bearer {API_KEY}x", f"Bearer {API_KEY[:-1]}",
     "Bearer wrong-key", f"Token {API_KEY}"],
)
async def test_every_api_route_answers_401_json_to_a_wrong_or_absent_key_and_changes_nothing(
    stack: Stack, authorization: str | None
) -> None:
    await play(stack, script(KNOWN_CALL, caller("candidate").raw_digits))
    status = row(stack, KNOWN_CALL)["status"]
    operations = sorted(op for op in app_operations(stack.app.routes) if op[1].startswith("/api/"))
    assert len(operations) >= 7  # the insight and ops routes: new ones join automatically

    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in operations:
        answer = await stack.web.request(method, concrete(path, KNOWN_CALL), headers=headers,
                                         params={"phone": "+14155550123"})
        assert answer.status_code == 401, (method, path)
        assert answer.headers["content-type"] == "application/json"
        assert set(answer.json()) == {"error", "detail"} and answer.json()["error"] == "unauthorized"
    assert row(stack, KNOWN_CALL)["status"] == status


async def test_with_no_api_key_configured_every_api_route_refuses_even_a_plausible_key(tmp_path: Path) -> None:
    async with running_stack(tmp_path, CALLBRIDGE_API_KEY="") as stack:
        for method, path in sorted(op for op in app_operations(stack.app.routes) if op[1].startswith("/api/")):
            answer = await stack.web.request(method, concrete(path), headers={"Authorization": "Bearer "})
            assert answer.status_code == 401, (method, path)
            assert "CALLBRIDGE_API_KEY" in answer.json()["detail"]


async def test_forged_tampered_and_expired_card_links_are_403_json(stack: Stack) -> None:
    await play(stack, script(KNOWN_CALL, caller("candidate").raw_digits))
    key, now = stack.settings.signing_key.get(), time.time()
    good = httpx.URL(card_url("http://x", KNOWN_CALL, key=key, now=now))
    exp, sig = good.params["exp"], good.params["sig"]
    other_call = httpx.URL(card_url("http://x", KNOWN_CALL + 1, key=key, now=now)).params["sig"]
    expired = httpx.URL(card_url("http://x", KNOWN_CALL, key=key, now=now - 13 * 3600, ttl_s=3600))
    wrong_key = httpx.URL(card_url("http://x", KNOWN_CALL, key="not-the-key", now=now)).params["sig"]
    refusals = [
        {}, {"exp": exp}, {"sig": sig}, {"exp": exp, "sig": other_call}, {"exp": str(int(exp) + 1), "sig": sig},
        {"exp": exp, "sig": wrong_key}, {"exp": exp, "sig": sig[:-1]}, {"exp": "soon", "sig": sig},
        {"exp": expired.params["exp"], "sig": expired.params["sig"]}, {"exp": exp, "sig": sig + "=" * 4},
    ]

    assert (await stack.web.get(f"/cards/{KNOWN_CALL}", params={"exp": exp, "sig": sig})).status_code == 200
    for params in refusals:
        answer = await stack.web.get(f"/cards/{KNOWN_CALL}", params=params)
        assert answer.status_code == 403, params
        assert answer.json()["error"] == "forbidden"
        assert demo_data().candidates[caller("candidate").expected[0][1]]["lastName"] not in answer.text
    unknown = httpx.URL(card_url("http://x", 1, key=key, now=now))
    assert (await stack.web.get("/cards/1", params=dict(unknown.params))).status_code == 404
