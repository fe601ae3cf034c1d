"""The default actions (`CALLBRIDGE_DEFAULT_ACTIONS`, `CALLBRIDGE_DEFAULT_ACTION`) against Bullhorn's actions.

A default action is used when the agent pushed no tag (DESIGN §12), so it is checked exactly like an
agent tag (`classify_tag`): one row per configured call type, plus the fallback for the types not
listed, for the console's tags page and the setup doctor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from insight.domain.actions import classify_tag
from insight.domain.setup_checks import Check
from shared.note_settings import ACTION_TYPES

#: the row of `CALLBRIDGE_DEFAULT_ACTION`: every type `CALLBRIDGE_DEFAULT_ACTIONS` does not list
OTHER_TYPES = "other types"


def default_action_rows(defaults: Sequence[tuple[str, str]], fallback: str | None,
                        actions: Sequence[str]) -> list[dict[str, Any]]:
    """`{"type", "action", "variable", "problem", "suggestion"}` per configured default action."""
    rows: list[dict[str, Any]] = []
    for call_type, action in defaults:
        rows.append(_row(call_type, action, "CALLBRIDGE_DEFAULT_ACTIONS", actions))
    listed = {call_type for call_type, _ in defaults}
    if fallback and any(call_type not in listed for call_type in ACTION_TYPES):
        rows.append(_row(OTHER_TYPES, fallback, "CALLBRIDGE_DEFAULT_ACTION", actions))
    return rows


def default_actions_check(rows: Sequence[dict[str, Any]]) -> Check:
    title = "Default actions ↔ Bullhorn actions"
    if not rows:
        return Check("default_actions", title, "ok",
                     "No default action is set: a call without an agent tag gets no action.")
    misfits = [row for row in rows if row["problem"]]
    if not misfits:
        return Check("default_actions", title, "ok",
                     f"All {len(rows)} default action(s) are Bullhorn actions.", items=tuple(rows))
    listed = "; ".join(_misfit(row) for row in misfits)
    return Check("default_actions", title, "warn",
                 f"{len(misfits)} default action(s) are not in Bullhorn's commentActionList: {listed}. "
                 "Change the variable or add the action in Bullhorn.", items=tuple(rows))


def _row(call_type: str, action: str, variable: str, actions: Sequence[str]) -> dict[str, Any]:
    verdict = classify_tag(action, actions)
    return {"type": call_type, "action": action, "variable": variable, "problem": verdict.problem,
            "suggestion": verdict.suggestion}


def _misfit(row: dict[str, Any]) -> str:
    where = f"{row['variable']} ({row['type']}) '{row['action']}'"
    if row["problem"] == "too_long":
        return f"{where} is longer than 30 characters and is never used"
    if row["suggestion"]:
        return f"{where}: did you mean '{row['suggestion']}'?"
    return where
