from __future__ import annotations

import pytest

from insight.domain.actions import MAX_ACTION_LEN, ActionChoice, SkippedTag, TagVerdict, choose_action, classify_tag
from insight.domain.callstate import reduce_call
from sandbox.people import COMMENT_ACTIONS
from tests.aircall_payloads import answered_call, envelope, tag

TOO_LONG = "Follow up with hiring manager re Q3 contract roles"


def test_an_exact_action_is_ok() -> None:
    assert classify_tag("Sourcing Call", COMMENT_ACTIONS) == TagVerdict("Sourcing Call", None, None)


def test_a_tag_differing_only_by_case_is_written_as_typed_and_names_the_action_meant() -> None:
    verdict = classify_tag("sourcing call", COMMENT_ACTIONS)
    assert verdict == TagVerdict("sourcing call", "case_mismatch", "Sourcing Call")


def test_a_tag_longer_than_thirty_characters_can_never_be_an_action() -> None:
    assert len(TOO_LONG) > MAX_ACTION_LEN
    assert classify_tag(TOO_LONG, COMMENT_ACTIONS) == TagVerdict(None, "too_long", None)


def test_a_thirty_character_tag_still_fits() -> None:
    assert classify_tag("x" * MAX_ACTION_LEN, COMMENT_ACTIONS).problem == "not_an_action"


def test_a_tag_that_is_not_an_action_is_still_written_and_suggests_a_close_action() -> None:
    assert classify_tag("Intervew Scheduled", COMMENT_ACTIONS) == TagVerdict(
        "Intervew Scheduled", "not_an_action", "Interview Scheduled")
    assert classify_tag("sourcing calls", COMMENT_ACTIONS).suggestion == "Sourcing Call"


@pytest.mark.parametrize("tag_name", ["Cold Call", "Not Interested", "Callback Request"])
def test_a_tag_unlike_any_action_suggests_nothing(tag_name: str) -> None:
    assert classify_tag(tag_name, COMMENT_ACTIONS) == TagVerdict(tag_name, "not_an_action", None)


def test_without_an_action_list_every_tag_is_not_an_action() -> None:
    assert classify_tag("Sourcing Call", []).problem == "not_an_action"


def test_the_first_agent_tag_of_the_call_is_the_action() -> None:
    state = reduce_call(answered_call())
    assert choose_action(state, default_action="Pending Note") == ActionChoice("Sourcing Call", "tag")


def test_a_too_long_first_tag_is_skipped_for_the_next_agent_tag() -> None:
    state = reduce_call([envelope("call.tagged", 100, tags=[tag("BD Call", 60), tag(TOO_LONG, 40)])])
    assert choose_action(state, default_action=None) == ActionChoice(
        "BD Call", "tag", (SkippedTag(TOO_LONG, "too_long"),))


def test_system_tags_are_not_actions_and_the_default_applies() -> None:
    state = reduce_call([envelope("call.tagged", 100, tags=[tag("Callback Request", 40, by={})])])
    assert choose_action(state, default_action="Pending Note") == ActionChoice("Pending Note", "default")


def test_no_agent_tag_and_no_default_means_no_action() -> None:
    assert choose_action([], default_action=None) == ActionChoice(None, "none")
    only_too_long = choose_action([TOO_LONG], default_action=None)
    assert only_too_long == ActionChoice(None, "none", (SkippedTag(TOO_LONG, "too_long"),))


def test_a_default_action_too_long_for_bullhorn_is_not_used() -> None:
    choice = choose_action([], default_action=TOO_LONG)
    assert choice.action is None and choice.skipped == (SkippedTag(TOO_LONG, "too_long"),)


def test_tag_names_keep_their_case_as_the_action() -> None:
    assert choose_action(["sourcing call", "BD Call"], default_action=None).action == "sourcing call"


def test_a_bare_string_is_refused_rather_than_read_letter_by_letter() -> None:
    with pytest.raises(TypeError):
        choose_action("BD Call", default_action=None)
