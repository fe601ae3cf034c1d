from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from insight.domain.setup_checks import NEEDED_EVENTS, needed_events
from sandbox.aircall import AircallSandboxConfig
from sandbox.bullhorn import BullhornSandboxConfig
from sandbox.calls import CommentScript
from sandbox.people import AGENTS, COMMENT_ACTIONS
from tests.stack import Stack, running_stack
from tests.worker_kit import caller, ended_s, play, script

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


async def test_create_tags_creates_each_action_without_an_exact_tag_once(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        before = (await checks(stack))["tags_for_actions"]
        names_before = [tag["name"] for tag in stack.aircall.tag_book.tags.values()]

        first = await fix(stack, "create_tags")
        names_after_first = [tag["name"] for tag in stack.aircall.tag_book.tags.values()]
        second = await fix(stack, "create_tags")

        actions = list(COMMENT_ACTIONS)
        created = [name for name in names_after_first if name not in names_before]
        assert before["status"] == "warn" and before["fix"] == "create_tags" and "'Outbound Call'" in before["detail"]
        assert sorted(created) == sorted(action for action in actions if action not in names_before)
        assert (first["status"], first["changed"]) == ("ok", True)
        assert (second["status"], second["changed"]) == ("ok", False)
        assert len(stack.aircall.tag_book.tags) == len(names_after_first)


async def test_rename_tag_is_a_separate_fix_offered_only_where_no_exact_tag_exists(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        variant = stack.aircall.tag_book.create({"name": "left message", "color": "#00B388"})
        exact = next(tag for tag in stack.aircall.tag_book.tags.values() if tag["name"] == "Left Message")
        del stack.aircall.tag_book.tags[exact["id"]]
        listed = await checks(stack)
        offered = listed[f"tag_case_{variant['id']}"]

        first = await fix(stack, f"rename_tag:{variant['id']}")
        second = await fix(stack, f"rename_tag:{variant['id']}")

        assert offered["status"] == "warn" and offered["fix"] == f"rename_tag:{variant['id']}"
        assert "'left message'" in offered["fix_description"] and "'Left Message'" in offered["fix_description"]
        # 'sourcing call' has an exact twin 'Sourcing Call': renaming would make two tags of one name
        assert not any(check["fix"] == "rename_tag:1022901" for check in listed.values())
        assert listed["tags_for_actions"]["fix"] == "create_tags"
        assert (first["status"], first["changed"], second["changed"]) == ("ok", True, False)
        assert stack.aircall.tag_book.tags[variant["id"]]["name"] == "Left Message"


async def test_an_unknown_fix_or_tag_is_a_404_and_a_malformed_request_a_400(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        def post(body: object) -> Any:
            return stack.web.post("/api/setup/fix", json=body, headers=stack.api_headers)

        unknown = await post({"fix": "reboot_aircall"})
        no_tag = await post({"fix": "rename_tag:42"})
        malformed = await post({"fixes": ["create_tags"]})
        keyless = await stack.web.get("/api/setup")

    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_fix"
    assert "register_webhook" in unknown.json()["detail"]
    assert no_tag.status_code == 404 and "no tag 42" in no_tag.json()["detail"]
    assert malformed.status_code == 400 and malformed.json()["error"] == "bad_request"
    assert keyless.status_code == 401


async def test_bullhorn_refusing_event_subscriptions_fails_that_right_and_nothing_else(tmp_path: Path) -> None:
    refusing = BullhornSandboxConfig(event_subscriptions_allowed=False)
    async with running_stack(tmp_path, aircall_config=NO_LIMIT, bullhorn_config=refusing) as stack:
        found = await checks(stack)

    assert found["bullhorn_right_events"]["status"] == "fail"
    assert "lacks the rights" in found["bullhorn_right_events"]["detail"]
    assert found["bullhorn_login"]["status"] == "ok" and found["bullhorn_right_search"]["status"] == "ok"


async def test_note_rights_warn_until_a_note_is_written_and_a_refused_edit_then_fails(tmp_path: Path) -> None:
    call = script(7101, caller("candidate").raw_digits, comments=[CommentScript("late", 300)])
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        untried = await checks(stack)
        worker = await stack.worker()
        await play(stack, call, until_s=ended_s(call))
        await worker.run_once()
        stack.bullhorn.config.note_edit_allowed = False
        await play(stack, call, after_s=ended_s(call))
        await worker.run_once()
        tried = await checks(stack)

    assert untried["bullhorn_right_note_create"]["status"] == "warn"
    assert "Not verified" in untried["bullhorn_right_note_update"]["detail"]
    assert tried["bullhorn_right_note_create"]["status"] == "ok"
    assert tried["bullhorn_right_note_update"]["status"] == "fail"
    assert "edit rights on notes" in tried["bullhorn_right_note_update"]["detail"]


async def test_an_agent_without_a_bullhorn_user_is_a_warn_naming_who_authors_their_notes(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        agents = (await checks(stack))["agents"]

    unmapped = [agent for agent in AGENTS if agent.bullhorn_id is None]
    rows = {row["email"]: row for row in agents["items"]}
    assert agents["status"] == "warn" and unmapped
    assert {email: row["bullhorn_user_id"] for email, row in rows.items()} == {
        agent.aircall_email: agent.bullhorn_id for agent in AGENTS}
    fallback = "unmapped: notes will be authored by the API user (northwind.api)"
    assert rows[unmapped[0].aircall_email]["maps_to"] == fallback
    assert unmapped[0].name in agents["detail"]


async def test_a_fresh_stack_fails_only_on_the_missing_webhook(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT) as stack:
        found = await checks(stack)
        summary = (await stack.web.get("/api/summary", headers=stack.api_headers)).json()

    assert {check_id for check_id, check in found.items() if check["status"] == "fail"} == {"aircall_webhook"}
    assert found["aircall_credentials"]["status"] == "ok"
    assert found["api_budget"]["status"] == "ok" and "Bullhorn requests so far in" in found["api_budget"]["detail"]
    assert found["phone_index"]["status"] == "warn"
    # the doctor's Bullhorn requests (ping, searches, subscription probe, users, actions) count as setup
    assert summary["bullhorn_requests"]["by_purpose"]["setup"] >= 6


async def test_refused_credentials_fail_their_checks_and_what_depends_on_them_says_it_was_not_checked(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT, BULLHORN_PASSWORD="wrong",
                             AIRCALL_API_TOKEN="revoked") as stack:
        found = await checks(stack)

    assert found["bullhorn_login"]["status"] == "fail"
    assert found["bullhorn_right_search"] == {**found["bullhorn_right_search"], "status": "warn",
                                              "detail": "Not checked: the Bullhorn login failed."}
    for refused in ("aircall_credentials", "aircall_webhook", "agents"):
        assert found[refused]["status"] == "fail" and "AIRCALL_API_TOKEN" in found[refused]["detail"], refused


def test_the_webhook_the_doctor_registers_carries_the_ai_events_of_the_sections_the_note_shows() -> None:
    shown = {"summary.created", "topics.created", "sentiment.created", "action_item.created"}

    assert shown <= set(NEEDED_EVENTS) and "transcription.created" not in NEEDED_EVENTS
    assert "transcription.created" in needed_events(messages=True, ai_sections=["summary", "transcript"])
    assert "topics.created" not in needed_events(messages=True, ai_sections=["summary", "transcript"])


async def test_with_messages_off_the_registered_webhook_leaves_the_message_events_out(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT, CALLBRIDGE_MESSAGES="0") as stack:
        registered = await fix(stack, "register_webhook")
        [webhook] = webhooks_to_us(stack)

    assert registered["status"] == "ok"
    assert "call.created" in webhook["events"]
    assert not {"message.received", "message.sent"} & set(webhook["events"])


async def test_a_refused_note_edit_suggests_write_once_mode_which_needs_no_edit_right(tmp_path: Path) -> None:
    call = script(7190, caller("candidate").raw_digits, comments=[CommentScript("late", 300)])
    async with running_stack(tmp_path, aircall_config=NO_LIMIT,
                             bullhorn_config=BullhornSandboxConfig(note_edit_allowed=False)) as stack:
        worker = await stack.worker()
        await play(stack, call, until_s=ended_s(call))
        await worker.run_once()
        await play(stack, call, after_s=ended_s(call))
        await worker.run_once()
        refused = (await checks(stack))["bullhorn_right_note_update"]
    (tmp_path / "once").mkdir()
    async with running_stack(tmp_path / "once", aircall_config=NO_LIMIT, CALLBRIDGE_NOTE_MODE="once") as stack:
        once = (await checks(stack))["bullhorn_right_note_update"]

    assert refused["status"] == "fail" and "set CALLBRIDGE_NOTE_MODE=once" in refused["detail"]
    assert once["status"] == "ok" and "Not needed" in once["detail"]


async def test_bullhorn_refusing_the_pipeline_warns_that_cards_show_none_and_fails_nothing(tmp_path: Path) -> None:
    async with running_stack(tmp_path, aircall_config=NO_LIMIT,
                             bullhorn_config=BullhornSandboxConfig(pipeline_refused=True)) as stack:
        refused = await checks(stack)
    (tmp_path / "allowed").mkdir()
    async with running_stack(tmp_path / "allowed", aircall_config=NO_LIMIT) as stack:
        allowed = await checks(stack)

    assert refused["bullhorn_right_pipeline"]["status"] == "warn"
    assert "refused" in refused["bullhorn_right_pipeline"]["detail"]
    assert "no pipeline" in refused["bullhorn_right_pipeline"]["detail"]
    assert refused["bullhorn_right_search"]["status"] == "ok"
    assert allowed["bullhorn_right_pipeline"]["status"] == "ok"
    assert "CALLBRIDGE_LINK_JOB=1" in allowed["bullhorn_right_pipeline"]["detail"]
    assert "Bullhorn Automation" in allowed["bullhorn_right_pipeline"]["detail"]
