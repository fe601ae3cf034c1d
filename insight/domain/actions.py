"""Aircall tags versus Bullhorn note actions (DESIGN §4 "Tags vs actions").

The note's action is the first tag the agent pushed, written exactly as typed: Bullhorn documents
neither whether it rejects an action missing from `commentActionList` nor whether it compares case,
and Aircall's own integration writes the tag verbatim. So a tag that is not an allowed action is
still used, only flagged; the single hard limit is Bullhorn's `action` column, String(30).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from insight.domain.callstate import CallState

MAX_ACTION_LEN = 30
# High enough that "Cold Call" does not suggest "BD Call", low enough to catch typos and plurals.
_SUGGESTION_CUTOFF = 0.8

TagProblem = Literal["not_an_action", "case_mismatch", "too_long"]


@dataclass(frozen=True)
class TagVerdict:
    #: what Bullhorn receives for this tag (the tag itself), None when it cannot be an action at all
    action: str | None
    problem: TagProblem | None
    #: the allowed action probably meant, when there is one
    suggestion: str | None


@dataclass(frozen=True)
class SkippedTag:
    tag: str
    problem: Literal["too_long"]


@dataclass(frozen=True)
class ActionChoice:
    action: str | None
    source: Literal["tag", "default", "none"]
    #: agent tags passed over before the chosen one (and a default action that cannot fit)
    skipped: tuple[SkippedTag, ...] = ()


def choose_action(state_or_tags: CallState | Sequence[str], *, default_action: str | None) -> ActionChoice:
    """The first agent tag that fits in an action, else `default_action`, else no action.

    A sequence of tag names must already be the agent tags in the order they were pushed
    (`CallState.agent_tags`); system tags never count.
    """
    if isinstance(state_or_tags, CallState):
        names: Sequence[str] = [tag.name for tag in state_or_tags.agent_tags]
    elif isinstance(state_or_tags, str):
        raise TypeError("choose_action takes a CallState or a sequence of tag names, not one string")
    else:
        names = state_or_tags
    skipped: list[SkippedTag] = []
    for name in names:
        if len(name) > MAX_ACTION_LEN:
            skipped.append(SkippedTag(tag=name, problem="too_long"))
            continue
        return ActionChoice(action=name, source="tag", skipped=tuple(skipped))
    if default_action:
        if len(default_action) <= MAX_ACTION_LEN:
            return ActionChoice(action=default_action, source="default", skipped=tuple(skipped))
        skipped.append(SkippedTag(tag=default_action, problem="too_long"))
    return ActionChoice(action=None, source="none", skipped=tuple(skipped))


def classify_tag(tag: str, allowed_actions: Sequence[str]) -> TagVerdict:
    """How a tag fares as a Bullhorn action, for `GET /api/tags`."""
    if len(tag) > MAX_ACTION_LEN:
        return TagVerdict(action=None, problem="too_long", suggestion=None)
    if tag in allowed_actions:
        return TagVerdict(action=tag, problem=None, suggestion=None)
    folded = tag.casefold()
    for action in allowed_actions:
        if action.casefold() == folded:
            # Still written exactly as the agent typed it; the flag names the action meant.
            return TagVerdict(action=tag, problem="case_mismatch", suggestion=action)
    return TagVerdict(action=tag, problem="not_an_action", suggestion=_closest(folded, allowed_actions))


def _closest(folded: str, allowed_actions: Sequence[str]) -> str | None:
    by_folded: dict[str, str] = {}
    for action in allowed_actions:
        by_folded.setdefault(action.casefold(), action)
    matches = difflib.get_close_matches(folded, list(by_folded), n=1, cutoff=_SUGGESTION_CUTOFF)
    return by_folded[matches[0]] if matches else None
