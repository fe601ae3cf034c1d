"""Recent calls: filters, a table with status badges, "Load more" through the API's cursor."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.client import ServiceClient
from console.views.common import status_label, when
from shared.states import SyncState

#: rows per API page; "Load more" fetches the next one
PAGE_SIZE = 50
STATES = tuple(str(state) for state in SyncState)
DIRECTIONS = ("inbound", "outbound")
CALL_TYPES = ("outbound", "inbound", "voicemail", "missed")
_ANY = "any"


def render_calls(client: ServiceClient) -> list[dict[str, Any]]:
    """Draw the filters and the table; return the calls listed, for the detail picker."""
    status, direction, call_type, agent = st.columns(4)
    filters = {
        "status": status.selectbox("Status", (_ANY, *STATES), key="filter_status"),
        "direction": direction.selectbox("Direction", (_ANY, *DIRECTIONS), key="filter_direction"),
        "call_type": call_type.selectbox("Type", (_ANY, *CALL_TYPES), key="filter_type"),
        "agent": agent.text_input("Agent e-mail", key="filter_agent").strip(),
    }
    query = {name: value for name, value in filters.items() if value and value != _ANY}
    if st.session_state.get("calls_query") != query:
        # Another filter is another list: start again from its first page.
        st.session_state["calls_query"] = query
        st.session_state["calls_pages"] = 1

    calls, next_cursor = _fetch(client, query, pages=int(st.session_state.get("calls_pages", 1)))
    if not calls:
        st.info("No calls match these filters yet.")
        return calls
    st.dataframe(_table(calls), hide_index=True, key="calls_table")
    shown = f"{len(calls)} call{'s' if len(calls) != 1 else ''} shown, newest first"
    if next_cursor:
        left, right = st.columns([3, 1])
        left.caption(shown)
        right.button("Load more", key="load_more", on_click=_one_more_page)
    else:
        st.caption(shown + " (all of them)")
    return calls


def _fetch(client: ServiceClient, query: dict[str, str], *, pages: int) -> tuple[list[dict[str, Any]], str | None]:
    # Every refresh re-reads the pages already open, so their statuses stay current; the cursor
    # keeps them stable while new calls arrive on top.
    calls: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(pages):
        page = client.calls(**query, limit=PAGE_SIZE, cursor=cursor)
        calls.extend(page.get("calls") or [])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return calls, cursor


def _one_more_page() -> None:
    st.session_state["calls_pages"] = int(st.session_state.get("calls_pages", 1)) + 1


def _table(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for call in calls:
        match = call.get("match") or {}
        rows.append(
            {
                "call": call.get("call_id"),
                "status": status_label(call.get("status")),
                "started": when(call.get("started_at")),
                "direction": call.get("direction") or "",
                "type": call.get("type") or "",
                "agent": call.get("agent_email") or "",
                "number": call.get("raw_digits") or "",
                "line": call.get("number_name") or "",
                "matched": f"{match.get('name') or '?'} ({match.get('entity')})" if match else "",
                "action": call.get("action") or "",
                "attempts": call.get("attempt_count") or 0,
                "explanation": call.get("explanation") or "",
            }
        )
    return rows
