from __future__ import annotations

from datetime import UTC, datetime

import pytest

from insight.domain.authors import build_directory
from insight.domain.budget import budget_report
from insight.domain.setup_checks import (
    NEEDED_EVENTS,
    Attempt,
    IndexFacts,
    WebhookFact,
    WriteEvidence,
    budget_check,
    index_check,
    note_right_check,
    tried_check,
    webhook_check,
)
from insight.domain.setup_mapping import TagFact, agents_check, tag_checks

PUBLIC = "https://callbridge.example.com"
OURS = "https://callbridge.example.com/webhooks/aircall"
AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def hook(**changes: object) -> WebhookFact:
    values: dict[str, object] = {"webhook_id": "w1", "url": OURS, "active": True, "events": NEEDED_EVENTS,
                                 "token_accepted": True}
    values.update(changes)
    return WebhookFact(**values)  # type: ignore[arg-type]


def test_the_needed_events_include_every_call_event_the_design_names_and_the_message_events() -> None:
    named = {"call.created", "call.ringing_on_agent", "call.answered", "call.transferred", "call.hungup",
             "call.ended", "call.voicemail_left", "call.comm_assets_generated", "call.tagged", "call.untagged",
             "call.commented", "message.received", "message.sent"}
    assert named <= set(NEEDED_EVENTS)


@pytest.mark.parametrize(
    ("webhooks", "status", "fix", "said"),
    [
        ([], "fail", "register_webhook", "No Aircall webhook sends to " + OURS),
        ([hook(url="https://elsewhere.example.com/hook")], "fail", "register_webhook", "No Aircall webhook"),
        ([hook(active=False)], "fail", "enable_webhook", "deactivated"),
        ([hook(token_accepted=False)], "fail", "enable_webhook", "401"),
        ([hook(events=NEEDED_EVENTS[1:])], "fail", "enable_webhook", NEEDED_EVENTS[0]),
        ([hook(events=(*NEEDED_EVENTS, "contact.created"))], "warn", "enable_webhook", "contact.created"),
        ([hook(), hook(webhook_id="w2")], "warn", None, "every event arrives 2 times"),
        ([hook(active=False), hook(webhook_id="w2")], "warn", None, "w2"),
        ([hook(url=OURS + "/")], "ok", None, "exactly the"),
    ],
)
def test_the_webhook_is_graded_by_the_design_rules(webhooks: list[WebhookFact], status: str, fix: str | None,
                                                    said: str) -> None:
    check = webhook_check(webhooks, PUBLIC)

    assert (check.status, check.fix) == (status, fix)
    assert said in check.detail
    assert (check.fix_description is not None) == (fix is not None)


def test_a_refused_try_fails_an_unanswered_one_warns_except_for_the_login() -> None:
    refused = Attempt(ok=False, reason="Bullhorn refused the candidate search: forbidden", refused=True)
    down = Attempt(ok=False, reason="Bullhorn did not answer")

    assert tried_check("x", "X", refused, ok_detail="").status == "fail"
    assert tried_check("x", "X", down, ok_detail="").status == "warn"
    assert tried_check("x", "X", down, ok_detail="", unanswered_is_fail=True).status == "fail"
    assert tried_check("x", "X", Attempt(ok=True), ok_detail="fine").detail == "fine"


@pytest.mark.parametrize(
    ("evidence", "status", "said"),
    [
        (None, "warn", "Not verified"),
        (WriteEvidence(200, AT, None), "ok", "accepted"),
        (WriteEvidence(403, AT, "the API user lacks edit rights on notes"), "fail", "lacks edit rights"),
        (WriteEvidence(503, AT, "Bullhorn is unavailable"), "warn", "Bullhorn is unavailable"),
    ],
)
def test_note_rights_are_judged_by_the_last_real_write(evidence: WriteEvidence | None, status: str,
                                                        said: str) -> None:
    check = note_right_check("update", evidence)

    assert check.status == status and said in check.detail
    assert check.title == "Bullhorn right: edit Notes"


def test_the_budget_is_ok_when_not_measured_and_warns_on_a_projected_overrun() -> None:
    mid_month = datetime(2026, 12, 16, 0, 0, tzinfo=UTC)
    within = budget_report({"lookup": 30_000}, now=mid_month, budget=100_000, index_share=0.1)
    over = budget_report({"lookup": 30_000, "index": 30_000}, now=mid_month, budget=100_000, index_share=0.1)

    assert budget_check(None).detail == "Not measured yet."
    assert budget_check(within).status == "ok" and "62,000 projected" in budget_check(within).detail
    overrun = budget_check(over)
    assert overrun.status == "warn" and "124,000 projected" in overrun.detail
    assert "BULLHORN_MONTHLY_API_BUDGET" in overrun.detail


def test_an_index_still_building_warns_with_its_progress() -> None:
    building = index_check(IndexFacts(ready=False, records_indexed=400, records_total=825, eta_s=120, lag_s=None))
    ready = index_check(IndexFacts(ready=True, records_indexed=825, records_total=825, eta_s=None, lag_s=5))

    assert building.status == "warn" and "400 of 825 records, about 2 min left" in building.detail
    assert ready.status == "ok"


def test_agents_map_by_email_ignoring_case_and_unmapped_ones_name_the_fallback_author() -> None:
    directory = build_directory([
        {"id": 7, "email": "Ada@Example.com", "enabled": True, "isDeleted": False},
        {"id": 3, "email": "ken@example.com", "enabled": False, "isDeleted": True},
    ])
    users = [{"id": 1, "name": "Ada", "email": "ada@example.com"}, {"id": 2, "name": "Ken", "email": "ken@example.com"}]

    check = agents_check(users, directory, fallback_author="the API user (api)")

    assert check.status == "warn" and "Ken (ken@example.com)" in check.detail
    assert [item["bullhorn_user_id"] for item in check.items] == [7, None]
    assert check.items[1]["maps_to"] == "unmapped: notes will be authored by the API user (api)"


def test_tags_offer_create_for_missing_actions_and_rename_only_for_a_lone_case_variant() -> None:
    actions = ["Sourcing Call", "BD Call", "Left Message"]
    tags = [TagFact(1, "Sourcing Call"), TagFact(2, "sourcing call"), TagFact(3, "left message"),
            TagFact(4, "Follow up with hiring manager re Q3 roles")]

    checks = {check.id: check for check in tag_checks(tags, actions)}

    assert checks["tags_for_actions"].fix == "create_tags"
    assert "'BD Call', 'Left Message'" in checks["tags_for_actions"].detail
    assert "tag_case_2" not in checks and checks["tag_case_3"].fix == "rename_tag:3"
    assert checks["tags_not_actions"].status == "warn" and "longer than 30" in checks["tags_not_actions"].detail
    assert all(check.status != "fail" for check in checks.values())
