"""The Setup page: the doctor's checklist, each fix said in plain words and applied only after a confirmation,
the agent ↔ Bullhorn user mapping and the tag ↔ action table."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.client import ServiceClient, ServiceError

_ICONS = {"ok": "✅", "warn": "⚠️", "fail": "❌"}
_BANNERS = {"ok": st.success, "warn": st.warning, "fail": st.error}


def render_setup(client: ServiceClient) -> None:
    # The doctor asks Bullhorn and Aircall a dozen things: run it on demand, not on every refresh.
    if "setup_checks" not in st.session_state:
        st.session_state["setup_checks"] = client.setup().get("checks") or []
    st.button("Run the checks again", key="setup-rerun", on_click=_forget_checks)
    checks: list[dict[str, Any]] = st.session_state["setup_checks"]
    counts = {status: sum(1 for check in checks if check.get("status") == status) for status in _ICONS}
    st.markdown(f"**{len(checks)}** checks: **{counts['fail']}** failing, **{counts['warn']}** warning, "
                f"**{counts['ok']}** ok.")
    for check in checks:
        _check(client, check)
    by_id = {check.get("id"): check for check in checks}
    _agents_table(by_id.get("agents"))
    _tags_tables(by_id.get("tags_for_actions"), by_id.get("tags_not_actions"))


def _forget_checks() -> None:
    """The page runs the doctor again as it renders (where a failure is a banner)."""
    st.session_state.pop("setup_checks", None)


def _check(client: ServiceClient, check: dict[str, Any]) -> None:
    status = str(check.get("status"))
    _BANNERS.get(status, st.info)(f"**{check.get('title')}**: {check.get('detail')}", icon=_ICONS.get(status))
    fix = check.get("fix")
    outcome = st.session_state.get("fix_outcomes", {}).get(check.get("id"))
    if outcome:
        _BANNERS.get(outcome[0], st.info)(outcome[1])
    if not fix:
        return
    if st.session_state.get("confirm_fix") != fix:
        st.button(f"Fix: {fix}", key=f"fix-{fix}", on_click=_ask, args=(fix,))
        return
    st.info(f"**This fix will:** {check.get('fix_description') or fix}", icon="🛠️")
    left, right = st.columns(2)
    left.button("Yes, apply it", key=f"confirm-{fix}", type="primary", on_click=_apply,
                args=(client, fix, check.get("id")))
    right.button("Cancel", key=f"cancel-{fix}", on_click=_ask, args=(None,))


def _ask(fix: str | None) -> None:
    st.session_state["confirm_fix"] = fix


def _apply(client: ServiceClient, fix: str, check_id: str) -> None:
    outcomes: dict[str, tuple[str, str]] = st.session_state.setdefault("fix_outcomes", {})
    st.session_state["confirm_fix"] = None
    try:
        answer = client.setup_fix(fix)
    except ServiceError as error:
        outcomes[check_id] = ("fail", f"The fix was not applied: {error}")
        return
    done = "Done." if answer.get("changed") else "Nothing needed changing."
    outcomes[check_id] = (str(answer.get("status")), f"{done} Now: {answer.get('detail')}")
    _forget_checks()


def _agents_table(check: dict[str, Any] | None) -> None:
    rows = (check or {}).get("items") or []
    st.subheader("Aircall agents ↔ Bullhorn users")
    if not rows:
        st.caption("No agents to show (the check could not read them).")
        return
    st.dataframe(
        [{"": _ICONS.get(str(row.get("status")), ""), "agent": row.get("name"), "e-mail": row.get("email"),
          "Bullhorn user": row.get("maps_to")} for row in rows],
        hide_index=True,
        key="setup_agents",
    )


def _tags_tables(actions: dict[str, Any] | None, tags: dict[str, Any] | None) -> None:
    st.subheader("Aircall tags ↔ Bullhorn actions")
    action_rows = (actions or {}).get("items") or []
    if action_rows:
        st.dataframe(
            [{"": _ICONS.get(str(row.get("status")), ""), "Bullhorn action": row.get("action"),
              "Aircall tag": row.get("tag") or "(none)",
              "fix": "create_tags: creates this tag" if row.get("fix") == "create_tags" else ""}
             for row in action_rows],
            hide_index=True,
            key="setup_actions",
        )
    tag_rows = (tags or {}).get("items") or []
    if tag_rows:
        st.dataframe(
            [{"Aircall tag": row.get("tag"), "as an action": _tag_verdict(row),
              "fix": f"{row['fix']}: renames it to {row.get('suggestion')}" if row.get("fix") else ""}
             for row in tag_rows],
            hide_index=True,
            key="setup_tags",
        )


def _tag_verdict(row: dict[str, Any]) -> str:
    problem, suggestion = row.get("problem"), row.get("suggestion")
    if problem == "case_mismatch":
        return f"differs from {suggestion} only by case"
    if problem == "too_long":
        return "longer than 30 characters"
    if problem == "not_an_action":
        return f"not an action{f' (closest: {suggestion})' if suggestion else ''}"
    return "ok"
