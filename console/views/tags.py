"""Every Aircall tag seen, the Bullhorn action it becomes, and how to fix the ones that do not fit."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.client import ServiceClient
from console.views.common import code, when

MAX_ACTION_LEN = 30

_PROBLEMS = {
    "case_mismatch": "differs from an action only by case",
    "not_an_action": "not in commentActionList",
    "too_long": f"longer than {MAX_ACTION_LEN} characters",
}


def fix_for(tag: dict[str, Any]) -> str | None:
    """The operator's next step for a tag that does not fit Bullhorn's action list, in one sentence."""
    name, suggestion, problem = tag.get("tag"), tag.get("suggestion"), tag.get("problem")
    if problem == "case_mismatch":
        return (
            f"Rename the Aircall tag {code(name)} to {code(suggestion)}, or add {code(name)} to commentActionList: "
            f"actions are case-sensitive, so notes now get {code(name)}, an action Bullhorn does not list."
        )
    if problem == "not_an_action" and suggestion:
        return (
            f"Rename the Aircall tag {code(name)} to {code(suggestion)} (the closest action), "
            f"or add {code(name)} to commentActionList."
        )
    if problem == "not_an_action":
        return f"Add {code(name)} to Bullhorn's commentActionList, or rename the Aircall tag to one of its actions."
    if problem == "too_long":
        return (
            f"Shorten the Aircall tag {code(name)} to {MAX_ACTION_LEN} characters or fewer: Bullhorn's action holds no "
            "more, so calls with it take their next agent tag as the action."
        )
    return None


def render_tags(client: ServiceClient) -> None:
    answer = client.tags()
    tags: list[dict[str, Any]] = answer.get("tags") or []
    actions: list[str] = answer.get("actions") or []
    if answer.get("actions_stale"):
        st.warning(
            f"Bullhorn does not answer: this uses its action list as read at {when(answer.get('actions_read_at'))}.",
            icon="🔌",
        )
    misfits = [tag for tag in tags if tag.get("problem")]
    st.markdown(
        f"**{len(tags)}** tag{'s' if len(tags) != 1 else ''} seen on calls; "
        f"**{len(misfits)}** {'does' if len(misfits) == 1 else 'do'} not fit Bullhorn's action list."
    )
    for tag in sorted(misfits, key=lambda t: -int(t.get("calls") or 0)):
        calls = int(tag.get("calls") or 0)
        problem = _PROBLEMS.get(str(tag.get("problem")))
        st.warning(
            f"**{code(tag.get('tag'))}** ({calls} call{'s' if calls != 1 else ''}): {problem}.\n\n{fix_for(tag)}",
            icon="🏷️",
        )
    if tags:
        st.dataframe(
            [
                {
                    "tag": tag.get("tag"),
                    "calls": tag.get("calls"),
                    "Bullhorn action": tag.get("action") or "(none: skipped)",
                    "problem": _PROBLEMS.get(str(tag.get("problem")), "ok"),
                    "meant": tag.get("suggestion") or "",
                }
                for tag in tags
            ],
            hide_index=True,
            key="tags_table",
        )
    else:
        st.info("No call has carried a tag yet.")
    _default_actions(answer.get("default_actions") or [])
    with st.expander(f"Bullhorn's allowed actions ({len(actions)})"):
        st.markdown("\n".join(f"- {code(action)}" for action in actions) or "_none configured_")


def _default_actions(defaults: list[dict[str, Any]]) -> None:
    """The actions calls get when the agent pushed no tag, checked like tags."""
    st.markdown("#### Default actions (no agent tag)")
    if not defaults:
        st.caption("None set: CALLBRIDGE_DEFAULT_ACTIONS and CALLBRIDGE_DEFAULT_ACTION are empty, so an untagged "
                   "call gets no action.")
        return
    for row in defaults:
        if row.get("problem"):
            meant = f" Did you mean {code(row.get('suggestion'))}?" if row.get("suggestion") else ""
            st.warning(f"{code(row.get('variable'))} gives **{row.get('type')}** calls {code(row.get('action'))}: "
                       f"{_PROBLEMS.get(str(row.get('problem')))}.{meant}", icon="🏷️")
    st.dataframe(
        [
            {"call type": row.get("type"), "default action": row.get("action"), "set by": row.get("variable"),
             "problem": _PROBLEMS.get(str(row.get("problem")), "ok")}
            for row in defaults
        ],
        hide_index=True,
        key="default_actions_table",
    )
