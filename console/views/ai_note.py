"""A call's AI sections as its note shows them, and what arrived after a write-once note was written."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.views.common import md, when

_MOODS = {"positive": "🙂 Positive", "neutral": "😐 Neutral", "negative": "🙁 Negative"}


def render_ai(call: dict[str, Any]) -> None:
    ai: dict[str, Any] = call.get("ai") or {}
    if any(ai.get(key) for key in ("summary", "topics", "sentiment", "action_items", "transcript_lines")):
        st.markdown("#### AI insights in the note")
        with st.container(border=True):
            if ai.get("summary"):
                st.markdown(f"**Summary**\n\n{md(ai['summary'])}")
            if ai.get("topics"):
                st.markdown("**Topics**\n\n" + "\n".join(f"- {md(topic)}" for topic in ai["topics"]))
            if ai.get("sentiment"):
                st.markdown("**Sentiment**\n\n" + "\n".join(
                    f"- {md(row.get('who'))}: {_MOODS.get(str(row.get('value')).lower(), md(row.get('value')))}"
                    for row in ai["sentiment"]))
            if ai.get("action_items"):
                st.markdown("**Action items**\n\n" + "\n".join(f"- {md(item)}" for item in ai["action_items"]))
            if ai.get("transcript_lines"):
                st.caption(f"Transcript: {ai['transcript_lines']} lines (in the note when CALLBRIDGE_NOTE_AI "
                           "includes transcript).")
    late: list[dict[str, Any]] = call.get("late") or []
    if late:
        st.markdown("#### Arrived after the note was written")
        st.info("CALLBRIDGE_NOTE_MODE=once writes each note once and never edits it: these are not in the note.",
                icon="🕓")
        st.dataframe([{"event": row.get("event"), "received": when(row.get("received_at")),
                       "what": row.get("summary")} for row in late], hide_index=True)
