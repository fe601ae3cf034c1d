from __future__ import annotations

import pytest

from shared.note_settings import default_action_for
from shared.settings import SettingsError, load_settings
from tests.shared.test_settings import REQUIRED


def test_default_actions_per_type_are_trimmed_pairs_in_any_order() -> None:
    settings = load_settings({**REQUIRED, "CALLBRIDGE_DEFAULT_ACTIONS":
                              " missed = Missed Call ,inbound=Inbound Call,, sms=Text Message "})

    assert dict(settings.default_actions) == {"missed": "Missed Call", "inbound": "Inbound Call",
                                              "sms": "Text Message"}


@pytest.mark.parametrize("value", ["inbound", "inbound=", "=Call", "inbound=A=B", "fax=Fax", "inbound=A,inbound=B"])
def test_a_malformed_or_unknown_default_action_pair_stops_the_process_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**REQUIRED, "CALLBRIDGE_DEFAULT_ACTIONS": value})

    assert "CALLBRIDGE_DEFAULT_ACTIONS" in str(raised.value)


def test_a_type_not_listed_falls_back_to_the_single_default_action() -> None:
    settings = load_settings({**REQUIRED, "CALLBRIDGE_DEFAULT_ACTIONS": "missed=Missed Call",
                              "CALLBRIDGE_DEFAULT_ACTION": "Phone Call"})

    assert default_action_for("missed", settings.default_actions, settings.default_action) == "Missed Call"
    assert default_action_for("outbound", settings.default_actions, settings.default_action) == "Phone Call"
    assert default_action_for("outbound", (), None) is None


def test_note_mode_defaults_to_update_with_no_settle_time_and_the_four_ai_sections() -> None:
    settings = load_settings(REQUIRED)

    assert (settings.note_mode, settings.note_settle_s, settings.note_ai_wait_s) == ("update", 0.0, 300.0)
    assert settings.note_ai == ("summary", "topics", "sentiment", "action_items")


def test_once_mode_settles_for_120_s_unless_a_settle_time_is_given() -> None:
    once = load_settings({**REQUIRED, "CALLBRIDGE_NOTE_MODE": "once"})
    explicit = load_settings({**REQUIRED, "CALLBRIDGE_NOTE_MODE": "once", "CALLBRIDGE_NOTE_SETTLE_S": "30"})

    assert (once.note_mode, once.note_settle_s) == ("once", 120.0)
    assert explicit.note_settle_s == 30.0


def test_note_ai_takes_the_transcript_too_in_note_order_or_none_at_all() -> None:
    with_transcript = load_settings({**REQUIRED, "CALLBRIDGE_NOTE_AI": "transcript, summary"})
    without = load_settings({**REQUIRED, "CALLBRIDGE_NOTE_AI": "none"})

    assert with_transcript.note_ai == ("summary", "transcript")
    assert without.note_ai == ()


@pytest.mark.parametrize(("name", "value"), [("CALLBRIDGE_NOTE_MODE", "twice"), ("CALLBRIDGE_NOTE_AI", "mood"),
                                             ("CALLBRIDGE_NOTE_AI_WAIT_S", "soon")])
def test_a_bad_note_setting_stops_the_process_naming_it(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**REQUIRED, name: value})

    assert name in str(raised.value)
