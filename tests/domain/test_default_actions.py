from __future__ import annotations

from insight.domain.default_actions import OTHER_TYPES, default_action_rows, default_actions_check

ACTIONS = ["Inbound Call", "Missed Call", "Voicemail", "Phone Call"]


def test_each_default_action_is_checked_like_an_agent_tag_and_the_fallback_covers_the_other_types() -> None:
    rows = default_action_rows((("missed", "missed call"), ("voicemail", "Voicemail"), ("inbound", "Inbnd Call")),
                               "Phone Call", ACTIONS)

    assert [(row["type"], row["problem"], row["suggestion"]) for row in rows] == [
        ("missed", "case_mismatch", "Missed Call"),
        ("voicemail", None, None),
        ("inbound", "not_an_action", "Inbound Call"),
        (OTHER_TYPES, None, None),
    ]
    assert rows[-1]["variable"] == "CALLBRIDGE_DEFAULT_ACTION"


def test_a_fallback_no_type_needs_is_not_listed() -> None:
    every_type = tuple((kind, "Phone Call") for kind in ("inbound", "outbound", "missed", "voicemail", "sms"))

    assert OTHER_TYPES not in [row["type"] for row in default_action_rows(every_type, "Pending Note", ACTIONS)]


def test_the_doctor_warns_about_a_default_action_bullhorn_does_not_list_and_names_the_variable() -> None:
    check = default_actions_check(default_action_rows((("missed", "Missed Calls"),), None, ACTIONS))
    fine = default_actions_check(default_action_rows((("missed", "Missed Call"),), None, ACTIONS))
    unset = default_actions_check([])

    assert check.status == "warn" and "CALLBRIDGE_DEFAULT_ACTIONS (missed) 'Missed Calls'" in check.detail
    assert "did you mean 'Missed Call'" in check.detail
    assert (fine.status, unset.status) == ("ok", "ok")
