"""Sync outcomes and latency per hour, from the summary's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from console.client import ServiceClient
from console.views.common import STATUS_COLORS

WINDOWS_H = {"last 24 hours": 24, "last 3 days": 72, "last 7 days": 168}
_HEX = {
    "green": "#21c354",
    "gray": "#a3a8b8",
    "blue": "#1c83e1",
    "orange": "#ff8700",
    "red": "#ff2b2b",
    "yellow": "#faca2b",
    "violet": "#803df5",
}


def render_charts(client: ServiceClient) -> None:
    window = st.selectbox("Window", tuple(WINDOWS_H), key="chart_window")
    summary = client.summary(hours=WINDOWS_H[str(window)])
    timeline: list[dict[str, Any]] = summary.get("timeline") or []
    if not any(bucket.get("calls") for bucket in timeline):
        st.info("No calls in this window yet.")
        return
    hours = [datetime.fromisoformat(str(bucket["hour"]).replace("Z", "+00:00")) for bucket in timeline]
    states = [state for state in STATUS_COLORS if state in timeline[0]]
    outcomes: dict[str, list[Any]] = {"hour": hours}
    outcomes.update({state: [int(bucket.get(state) or 0) for bucket in timeline] for state in states})
    st.markdown("#### Sync outcomes per hour (by when the call came in)")
    st.bar_chart(outcomes, x="hour", y=states, color=[_HEX[STATUS_COLORS[state]] for state in states])
    st.markdown("#### Sync latency per hour, call end → note in Bullhorn (seconds)")
    latency = {
        "hour": hours,
        "p50": [_number(bucket.get("latency_p50_s")) for bucket in timeline],
        "p95": [_number(bucket.get("latency_p95_s")) for bucket in timeline],
    }
    st.line_chart(latency, x="hour", y=["p50", "p95"])
    figures = summary.get("latency") or {}
    st.caption(
        f"Over the window: p50 {figures.get('p50_s', '—')} s, p95 {figures.get('p95_s', '—')} s "
        f"from {figures.get('samples', 0)} synced calls."
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
