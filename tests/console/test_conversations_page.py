from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from streamlit.testing.v1 import AppTest

from tests.console.conftest import BASE
from tests.console.test_console_app import APP, CALLS, DETAIL, READY, SUMMARY

NOTE = ("<p><b>Text messages</b> on London Desk<br>With: +14155550123</p>\n"
        "<p><b>10:00 UTC · Received · +14155550123</b><br>&lt;b&gt;hi&lt;/b&gt;</p>")
CONVERSATION = {"id": 7, "line_id": "397301", "number": "+14155550123", "day": "2026-11-25", "status": "synced",
                "match": {"entity": "Candidate", "id": 42, "name": "Ada Lovelace"}, "note_id": 50001,
                "messages": [{"direction": "inbound", "sent_at": "2026-11-25T10:00:00Z", "sender": "+14155550123",
                              "text": "<b>hi</b>", "media": []}]}
UNMATCHED = {**DETAIL, "call_id": 1003, "status": "unmatched", "match": None, "raw_digits": "+1 415-555-0199"}


@pytest.fixture
def service(console_api: responses.RequestsMock) -> Iterator[responses.RequestsMock]:
    console_api.get(f"{BASE}/api/health", json=READY)
    console_api.get(f"{BASE}/api/summary", json=SUMMARY)
    console_api.get(f"{BASE}/api/calls", json={"calls": CALLS, "next_cursor": None})
    console_api.get(f"{BASE}/api/calls/1003", json=UNMATCHED)
    console_api.get(f"{BASE}/api/conversations", json={"conversations": [CONVERSATION], "next_cursor": None})
    console_api.get(f"{BASE}/api/conversations/7", json={**CONVERSATION, "line_name": "London Desk",
                                                         "note": {"external_id": "aircall-sms:397301:+14155550123:"
                                                                  "2026-11-25", "comments": NOTE}})
    yield console_api


def _run() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=10)
    app.run()
    assert not app.exception
    return app


def test_the_conversations_page_lists_conversations_and_shows_the_sms_note_as_written(
    service: responses.RequestsMock,
) -> None:
    app = _run()
    app.sidebar.radio(key="page").set_value("Conversations").run()

    table = app.dataframe[0].value
    assert list(table["conversation"]) == [7] and list(table["messages"]) == [1]
    app.selectbox(key="selected_conversation").select(7).run()

    assert not app.exception
    assert any("SMS conversation #7" in str(header.value) for header in app.subheader)
    assert [element.proto.body for element in app.get("html")] == [NOTE]


def test_an_unmatched_call_offers_to_create_its_record_and_sends_the_names(
    service: responses.RequestsMock,
) -> None:
    created = service.post(f"{BASE}/api/calls/1003/create-record", status=201,
                           json={"entity": "Candidate", "id": 2999, "detail": "Candidate Rosa Parks was created"})
    app = _run()
    app.selectbox(key="selected_call").select(1003).run()
    app.text_input(key="new-first-1003").input("Rosa").run()
    app.text_input(key="new-last-1003").input("Parks").run()

    app.button(key="create-1003").click().run()

    assert created.call_count == 1
    sent: Any = json.loads(created.calls[0].request.body)
    assert sent == {"entity": "Candidate", "first_name": "Rosa", "last_name": "Parks"}
    assert any("Created Candidate #2999" in str(success.value) for success in app.success)


def test_a_contact_needs_a_company_picked_from_the_search(service: responses.RequestsMock) -> None:
    service.get(f"{BASE}/api/companies", json={"companies": [{"id": 301, "name": "Harbor Logistics"}]})
    refused = service.post(f"{BASE}/api/calls/1003/create-record", status=201, json={"entity": "ClientContact",
                                                                                      "id": 3000})
    app = _run()
    app.selectbox(key="selected_call").select(1003).run()
    app.radio(key="new-entity-1003").set_value("ClientContact").run()
    app.text_input(key="new-first-1003").input("Ann").run()
    app.text_input(key="new-last-1003").input("Lee").run()
    app.text_input(key="new-company-q-1003").input("Harb").run()

    app.button(key="create-1003").click().run()

    assert json.loads(refused.calls[0].request.body)["client_corporation_id"] == 301
