from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from streamlit.testing.v1 import AppTest

from tests.console.conftest import BASE

APP = str(Path(__file__).resolve().parents[2] / "console" / "app.py")
REGISTER = ("Create an Aircall webhook for https://callbridge.example.com/webhooks/aircall subscribed to exactly "
            "the 19 call events callbridge uses")
CHECKS: list[dict[str, Any]] = [
    {"id": "bullhorn_login", "title": "Bullhorn login", "status": "ok", "detail": "callbridge logs in.", "fix": None,
     "fix_description": None},
    {"id": "aircall_webhook", "title": "Aircall webhook", "status": "fail",
     "detail": "No Aircall webhook sends to https://callbridge.example.com/webhooks/aircall.",
     "fix": "register_webhook", "fix_description": REGISTER},
    {"id": "agents", "title": "Aircall agents ↔ Bullhorn users", "status": "warn", "detail": "1 of 2 unmapped.",
     "fix": None, "fix_description": None, "items": [
         {"aircall_user_id": 1, "name": "Grace Hopper", "email": "grace@northwind.test", "bullhorn_user_id": 101,
          "status": "ok", "maps_to": "CorporateUser 101"},
         {"aircall_user_id": 2, "name": "Niklaus Wirth", "email": "niklaus@northwind.test", "bullhorn_user_id": None,
          "status": "warn", "maps_to": "unmapped: notes will be authored by the API user (northwind.api)"}]},
    {"id": "tags_for_actions", "title": "Aircall tags for Bullhorn actions", "status": "warn",
     "detail": "1 of 2 actions have no tag.", "fix": "create_tags",
     "fix_description": "Create 1 Aircall tag(s) spelled exactly like Bullhorn's actions: 'BD Call'.", "items": [
         {"action": "Sourcing Call", "tag": "Sourcing Call", "status": "ok", "fix": None},
         {"action": "BD Call", "tag": None, "status": "warn", "fix": "create_tags"}]},
    {"id": "tags_not_actions", "title": "Aircall tags that are not Bullhorn actions", "status": "warn",
     "detail": "1 tag is not an action.", "fix": None, "fix_description": None, "items": [
         {"tag_id": 7, "tag": "sourcing calls", "problem": "not_an_action", "suggestion": "Sourcing Call",
          "fix": None}]},
]


@pytest.fixture
def service(console_api: responses.RequestsMock) -> Iterator[responses.RequestsMock]:
    # served on loopback with no password, as the demo runs it (the console's sign-in is tested elsewhere)
    console_api.get(f"{BASE}/readyz", json={"status": "ready", "checks": {}})
    console_api.get(f"{BASE}/api/summary", json={"counts": {}, "queue": {}, "latency": {}, "cards": {}, "index": {}})
    console_api.get(f"{BASE}/api/calls", json={"calls": [], "next_cursor": None})
    console_api.get(f"{BASE}/api/setup", json={"checks": CHECKS})
    console_api.get(f"{BASE}/api/health", json={"status": "ready", "checks": {}})
    yield console_api


def _setup_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=10)
    app.run()
    app.sidebar.radio(key="page").set_value("Setup").run()
    assert not app.exception
    return app


def _texts(elements: Any) -> str:
    return "\n".join(str(element.value) for element in elements)


def _setup_reads(service: responses.RequestsMock) -> int:
    return sum(1 for call in service.calls if call.request.url == f"{BASE}/api/setup")


def test_the_setup_page_shows_every_check_with_its_status(service: responses.RequestsMock) -> None:
    app = _setup_page()

    assert "**Aircall webhook**: No Aircall webhook sends to" in _texts(app.error)
    assert "**Bullhorn login**: callbridge logs in." in _texts(app.success)
    assert "**Aircall agents ↔ Bullhorn users**: 1 of 2 unmapped." in _texts(app.warning)
    assert "**5** checks: **1** failing, **3** warning, **1** ok." in _texts(app.markdown)


def test_a_fix_runs_only_after_the_confirmation_and_says_what_it_will_do(service: responses.RequestsMock) -> None:
    fixed = {**CHECKS[1], "status": "ok", "detail": "Webhook w1 is active.", "fix": None, "changed": True}
    post = service.post(f"{BASE}/api/setup/fix", json=fixed)
    app = _setup_page()

    app.button(key="fix-register_webhook").click().run()
    asked = _texts(app.info)
    posted_before_confirming = post.call_count
    app.button(key="confirm-register_webhook").click().run()

    assert f"**This fix will:** {REGISTER}" in asked and posted_before_confirming == 0
    assert post.call_count == 1
    assert json.loads(post.calls[0].request.body) == {"fix": "register_webhook"}
    assert "Done. Now: Webhook w1 is active." in _texts(app.success)
    assert _setup_reads(service) == 2


def test_cancel_leaves_everything_as_it_was(service: responses.RequestsMock) -> None:
    post = service.post(f"{BASE}/api/setup/fix", json={})
    app = _setup_page()

    app.button(key="fix-create_tags").click().run()
    app.button(key="cancel-create_tags").click().run()

    assert post.call_count == 0 and not app.exception
    assert "This fix will" not in _texts(app.info)


def test_a_refused_fix_is_a_banner_with_the_services_reason(service: responses.RequestsMock) -> None:
    service.post(f"{BASE}/api/setup/fix", status=404,
                 json={"error": "unknown_fix", "detail": "there is no fix 'create_tags'"})
    app = _setup_page()

    app.button(key="fix-create_tags").click().run()
    app.button(key="confirm-create_tags").click().run()

    assert not app.exception
    assert "The fix was not applied" in _texts(app.error) and "there is no fix 'create_tags'" in _texts(app.error)


def test_the_agent_and_tag_tables_say_who_authors_and_what_each_fix_does(service: responses.RequestsMock) -> None:
    app = _setup_page()

    agents, actions, tags = (frame.value for frame in app.dataframe)
    assert list(agents["Bullhorn user"]) == [
        "CorporateUser 101", "unmapped: notes will be authored by the API user (northwind.api)"]
    assert list(actions["Aircall tag"]) == ["Sourcing Call", "(none)"]
    assert list(actions["fix"]) == ["", "create_tags: creates this tag"]
    assert list(tags["as an action"]) == ["not an action (closest: Sourcing Call)"]
