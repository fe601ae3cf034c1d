from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from insight.domain.setup_checks import NEEDED_EVENTS
from sandbox.aircall import AircallSandboxConfig
from sandbox.bullhorn import BullhornSandboxConfig
from sandbox.people import AGENTS
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.anyio

OUR_URL = "http://callbridge.test/webhooks/aircall"
NO_LIMIT = AircallSandboxConfig(requests_per_minute=None)


async def checks(stack: Stack) -> dict[str, dict[str, Any]]:
    response = await stack.web.get("/api/setup", headers=stack.api_headers)
    assert response.status_code == 200
    return {check["id"]: check for check in response.json()["checks"]}


async def fix(stack: Stack, fix_id: str) -> dict[str, Any]:
    response = await stack.web.post("/api/setup/fix", json={"fix": fix_id}, headers=stack.api_headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def webhooks_to_us(stack: Stack) -> list[dict[str, Any]]:
    return [webhook for webhook in stack.aircall.webhooks.webhooks.values() if webhook["url"] == OUR_URL]


async def delivery_with(stack: Stack, token: str) -> int:
    envelope = {"resource": "call", "event": "call.created", "timestamp": 1_795_000_000, "token": token,
                "data": {"id": 4242, "direction": "inbound", "raw_digits": "anonymous", "started_at": 1_795_000_000}}
    return (await stack.deliver(envelope)).status_code


async def test_without_a_webhook_the_check_fails_and_register_webhook_creates_exactly_one_with_the_needed_events(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        before = (await checks(stack))["aircall_webhook"]

        first = await fix(stack, "register_webhook")
        second = await fix(stack, "register_webhook")

        registered = webhooks_to_us(stack)
        assert before["status"] == "fail" and before["fix"] == "register_webhook"
        assert OUR_URL in before["fix_description"] and "call.commented" in before["fix_description"]
        assert (first["status"], first["changed"]) == ("ok", True)
        assert (second["status"], second["changed"]) == ("ok", False)
        assert len(registered) == 1 and registered[0]["active"] is True
        assert sorted(registered[0]["events"]) == sorted(NEEDED_EVENTS)
        assert await delivery_with(stack, registered[0]["token"]) == 200
        assert await delivery_with(stack, "forged-token") == 401


async def test_a_deactivated_webhook_fails_and_enable_webhook_reactivates_it_with_exactly_the_needed_events(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        webhook = stack.aircall.webhooks.add(url=OUR_URL, events=list(NEEDED_EVENTS), active=False,
                                             token="dashboard-token")
        before = (await checks(stack))["aircall_webhook"]

        first = await fix(stack, "enable_webhook")
        second = await fix(stack, "enable_webhook")

        assert before["status"] == "fail" and "deactivated" in before["detail"] and before["fix"] == "enable_webhook"
        assert (first["status"], first["changed"], second["changed"]) == ("ok", True, False)
        assert webhook["active"] is True and sorted(webhook["events"]) == sorted(NEEDED_EVENTS)
        # the Dashboard's token was not in AIRCALL_WEBHOOK_TOKEN: the fix made callbridge accept it
        assert await delivery_with(stack, "dashboard-token") == 200


async def test_a_dashboard_webhook_sending_every_event_is_a_warn_that_enable_webhook_narrows(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        webhook = stack.aircall.webhooks.add(url=OUR_URL, token="test-webhook-token")
        before = (await checks(stack))["aircall_webhook"]

        after = await fix(stack, "enable_webhook")

        assert before["status"] == "warn" and "ignores" in before["detail"] and before["fix"] == "enable_webhook"
        assert after["status"] == "ok" and sorted(webhook["events"]) == sorted(NEEDED_EVENTS)


async def test_a_webhook_missing_a_needed_event_fails_naming_the_event(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        stack.aircall.webhooks.add(url=OUR_URL, token="test-webhook-token",
                                   events=[event for event in NEEDED_EVENTS if event != "call.commented"])

        check = (await checks(stack))["aircall_webhook"]

        assert check["status"] == "fail" and "call.commented" in check["detail"]


async def test_aircall_refusing_the_registration_is_said_in_the_checks_detail(tmp_path: Path) -> None:
    refusing = AircallSandboxConfig(requests_per_minute=None, error_rates={"POST webhooks": 1.0}, error_status=403)
    async with running_stack(tmp_path, aircall_config=refusing) as stack:
        answer = await fix(stack, "register_webhook")

        assert answer["status"] == "fail" and answer["changed"] is False
        assert "could not register the webhook" in answer["detail"] and "AIRCALL_API_TOKEN" in answer["detail"]
        assert webhooks_to_us(stack) == []


async def test_aircall_rate_limiting_a_fix_is_said_in_the_checks_detail(tmp_path: Path) -> None:
    # one request a minute: the tag list uses it, the first creation would wait longer than a request may
    async with running_stack(tmp_path, aircall_config=AircallSandboxConfig(requests_per_minute=1)) as stack:
        answer = await fix(stack, "create_tags")

        assert answer["status"] == "warn" and answer["changed"] is False
        assert "Aircall rate limited the tag creation" in answer["detail"]
        assert "Outbound Call" not in {tag["name"] for tag in stack.aircall.tag_book.tags.values()}
