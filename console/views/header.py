"""The header on every page: is the service up, is the Bullhorn session good, how full is the queue."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.client import ServiceClient, ServiceError
from console.views.common import md, show_service_error
from shared.states import SETTLED

_COUNTED = tuple(str(state) for state in SETTLED)


def render_header(client: ServiceClient) -> None:
    try:
        client.health()
        readiness = client.readiness()
        summary = client.summary()
    except ServiceError as error:
        show_service_error(error)
        return
    checks: dict[str, Any] = readiness.get("checks") or {}
    bullhorn: dict[str, Any] = checks.get("bullhorn") or {}
    store: dict[str, Any] = checks.get("store") or {}
    queue: dict[str, Any] = summary.get("queue") or {}
    counts: dict[str, int] = summary.get("counts") or {}
    latency: dict[str, Any] = summary.get("latency") or {}

    service, session, database, depth, oldest = st.columns(5)
    service.metric("Service", "up" if readiness.get("status") == "ready" else "degraded")
    session.metric("Bullhorn session", str(bullhorn.get("session") or ("ok" if bullhorn.get("ok") else "down")))
    database.metric("Store", "ok" if store.get("ok") else "down")
    depth.metric("Queue depth", int(queue.get("depth") or 0), help=f"{queue.get('due', 0)} due now")
    age = queue.get("oldest_pending_age_s")
    oldest.metric("Oldest due call waiting", "—" if age is None else _duration(float(age)))
    if not bullhorn.get("ok", True):
        st.warning(f"**Bullhorn session:** {md(bullhorn.get('detail') or 'unavailable')}", icon="🔑")
    if not store.get("ok", True):
        st.error(f"**Store:** {md(store.get('detail') or 'unavailable')}", icon="🗄️")

    _index_line(summary.get("index"))
    _budget_line(summary.get("bullhorn_requests"))

    columns = st.columns(len(_COUNTED) + 2)
    for column, state in zip(columns, _COUNTED, strict=False):
        column.metric(state.capitalize(), int(counts.get(state, 0)))
    columns[-2].metric("Sync p50", _seconds(latency.get("p50_s")), help="call end → note in Bullhorn")
    columns[-1].metric("Sync p95", _seconds(latency.get("p95_s")), help="call end → note in Bullhorn")


def _index_line(index: object) -> None:
    """One line on the phone index: off (and why), building (progress, ETA), ready (with lag), or absent."""
    if not isinstance(index, dict):
        return
    if index.get("off_reason"):
        st.warning(f"📇 **Phone index off:** {index['off_reason']}.", icon="⚠️")
        return
    indexed = int(index.get("records_indexed") or 0)
    total = index.get("records_total")
    lag = index.get("lag_s")
    if index.get("ready"):
        fresh = "never polled" if lag is None else f"events polled {_duration(float(lag))} ago"
        st.caption(f"📇 Phone index ready: {indexed:,} records, {fresh}; ring-time lookups need no Bullhorn request.")
    elif index.get("scan"):
        share = f"{indexed:,} / {int(total):,} records" if isinstance(total, int) and total else f"{indexed:,} records"
        eta = index.get("eta_s")
        left = "" if not isinstance(eta, int | float) else f", about {_duration(float(eta))} left"
        st.caption(f"📇 Phone index building: {share}{left}. Lookups search Bullhorn live meanwhile.")
    else:
        st.caption("📇 Phone index not built yet: lookups search Bullhorn live. The worker builds it.")


def _budget_line(meter: object) -> None:
    """Bullhorn's monthly API allowance: month to date, the month-end projection, a warning when over."""
    if not isinstance(meter, dict):
        return
    total, projected, budget = (int(meter.get(key) or 0) for key in ("total", "projected", "budget"))
    by_purpose = meter.get("by_purpose") or {}
    top = ", ".join(f"{purpose} {int(count):,}" for purpose, count in
                    sorted(by_purpose.items(), key=lambda item: -int(item[1])) if int(count))
    share = f" ({projected / budget:.0%} of the budget)" if budget else ""
    st.caption(f"📈 Bullhorn API {meter.get('month', '')}: {total:,} requests so far{f' — {top}' if top else ''}; "
               f"projected {projected:,} of {budget:,}{share}.")
    if meter.get("warning"):
        st.warning(str(meter["warning"]), icon="📈")


def _seconds(value: object) -> str:
    return "—" if not isinstance(value, int | float) else _duration(float(value))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
