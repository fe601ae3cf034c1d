"""SMS conversations beside calls: the list, and one conversation with its note as Bullhorn shows it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.client import ServiceClient
from console.views.common import STATUS_MEANINGS, md, status_badge, status_label, when
from shared.states import NEEDS_A_PERSON, SyncState

PAGE_SIZE = 50
STATES = tuple(str(state) for state in SyncState)
_ANY = "any"
_NEEDS_A_PERSON = tuple(str(state) for state in NEEDS_A_PERSON)


def render_conversations(client: ServiceClient) -> list[dict[str, Any]]:
    """The filter and the table; the conversations listed, for the detail picker."""
    status = st.selectbox("Status", (_ANY, *STATES), key="conversation_status")
    page = client.conversations(status=None if status == _ANY else status, limit=PAGE_SIZE)
    items: list[dict[str, Any]] = page.get("conversations") or []
    if not items:
        st.info("No SMS conversations match yet. They appear here when Aircall sends message events.")
        return items
    st.dataframe(_table(items), hide_index=True, key="conversations_table")
    st.caption(f"{len(items)} conversation{'s' if len(items) != 1 else ''} shown, newest first "
               "(one per person, Aircall line and UTC day)")
    return items


def render_conversation(client: ServiceClient, conversation_id: int) -> None:
    item = client.conversation(conversation_id)
    status = str(item.get("status") or "")
    title, badge = st.columns([4, 1])
    title.subheader(f"SMS conversation #{conversation_id}")
    with badge:
        status_badge(status)
    meaning = STATUS_MEANINGS.get(status, status)
    explanation = item.get("explanation")
    text = f"**{md(explanation)}**\n\n_{status}: {meaning}._" if explanation else f"_{status}: {meaning}._"
    (st.error if status in _NEEDS_A_PERSON else st.success if status == "synced" else st.info)(text)
    match = item.get("match")
    who = md(f"{match.get('name') or '?'} ({match.get('entity')} {match.get('id')})") if match else "no match"
    left, right = st.columns(2)
    left.markdown("\n".join([
        f"- **With:** {md(item.get('number'))}",
        f"- **Line:** {md(item.get('line_name') or item.get('line_id'))} {md(item.get('line_digits') or '')}",
        f"- **Day (UTC):** {md(item.get('day'))}",
    ]))
    right.markdown("\n".join([
        f"- **Matched:** {who}",
        f"- **Note:** {item.get('note_id') or 'not written yet'}",
        f"- **Messages:** {len(item.get('messages') or [])}",
    ]))
    st.markdown("#### SMS note")
    note = item.get("note")
    if note and note.get("comments"):
        st.caption(f"As written to Bullhorn, externalID {md(note.get('external_id'))}")
        with st.container(border=True):
            # callbridge escaped every value from Aircall when it composed the note (the API's note is its HTML)
            st.html(str(note["comments"]))
    else:
        st.caption("No note yet: it is written once the number matches a Bullhorn record.")
    st.markdown("#### Messages")
    st.dataframe([{"time": when(message.get("sent_at")), "direction": message.get("direction"),
                   "sender": message.get("sender") or "", "text": message.get("text") or "",
                   "media": ", ".join(message.get("media") or [])} for message in item.get("messages") or []],
                 hide_index=True)


def pick_conversation(items: list[dict[str, Any]]) -> int | None:
    ids = [int(item["id"]) for item in items]
    linked = st.query_params.get("conversation")
    if linked and linked.isdigit() and int(linked) not in ids:
        ids.insert(0, int(linked))
    labels = {int(item["id"]): f"#{item['id']} · {item.get('status')} · {item.get('number')} · {item.get('day')}"
              for item in items}
    picked = st.selectbox("Open a conversation", ids,
                          index=ids.index(int(linked)) if linked and linked.isdigit() else None,
                          format_func=lambda key: labels.get(key, f"#{key}"),
                          placeholder="Choose a conversation to see its SMS note", key="selected_conversation")
    if picked is not None:
        st.query_params["conversation"] = str(picked)
    return None if picked is None else int(picked)


def _table(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        match = item.get("match") or {}
        messages = item.get("messages") or []
        rows.append({
            "conversation": item.get("id"),
            "status": status_label(item.get("status")),
            "day": item.get("day"),
            "number": item.get("number"),
            "line": item.get("line_id"),
            "messages": len(messages),
            "last": when(messages[-1].get("sent_at")) if messages else "",
            "matched": f"{match.get('name') or '?'} ({match.get('entity')})" if match else "",
            "note": item.get("note_id") or "",
        })
    return rows
