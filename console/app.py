"""The ops console: `streamlit run console/app.py`. It reaches the service only through `ServiceClient`."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.client import ServiceClient
from console.config import load_console_settings
from console.sign_in import SignIn, choose_guard, oidc_configured
from console.views.calls import render_calls
from console.views.charts import render_charts
from console.views.common import guarded
from console.views.conversations import pick_conversation, render_conversation, render_conversations
from console.views.detail import render_detail
from console.views.header import render_header
from console.views.setup import render_setup
from console.views.tags import render_tags

PAGES = ("Calls", "Conversations", "Tags", "Charts", "Setup")


def main() -> None:
    st.set_page_config(page_title="callbridge ops", page_icon="📞", layout="wide")
    try:
        settings = load_console_settings()
    except ValueError as error:
        st.error(f"**The console is misconfigured.** {error}")
        return
    guard = choose_guard(address=st.get_option("server.address"), password=settings.password, oidc=oidc_configured())
    if not SignIn(guard, settings.password).admit():
        return
    client = ServiceClient(settings.api_url, settings.api_key)
    page = st.sidebar.radio("Page", PAGES, key="page")
    auto = st.sidebar.toggle(f"Auto-refresh every {settings.refresh_s} s", value=True, key="auto_refresh")
    st.sidebar.caption(f"Service: {settings.api_url}")
    if not settings.api_key:
        st.sidebar.warning("CALLBRIDGE_API_KEY is not set: the service will refuse the console.")
    run_every = settings.refresh_s if auto else None

    st.title("callbridge · operations")
    # Each section is a fragment that refreshes itself without rerunning the page. Streamlit tells
    # fragments apart by their function's name, so each section has its own named function.
    st.fragment(_header_section, run_every=run_every)(client)
    st.divider()
    page_section = {"Tags": _tags_section, "Charts": _charts_section, "Setup": _setup_section,
                    "Conversations": _conversations_section}.get(
        str(page), _calls_section)
    # the doctor asks Bullhorn and Aircall a dozen things: Setup runs it on demand, never on a timer
    st.fragment(page_section, run_every=None if page == "Setup" else run_every)(client)


def _header_section(client: ServiceClient) -> None:
    guarded(lambda: render_header(client))


def _tags_section(client: ServiceClient) -> None:
    guarded(lambda: render_tags(client))


def _charts_section(client: ServiceClient) -> None:
    guarded(lambda: render_charts(client))


def _setup_section(client: ServiceClient) -> None:
    guarded(lambda: render_setup(client))


def _conversations_section(client: ServiceClient) -> None:
    def render() -> None:
        picked = pick_conversation(render_conversations(client))
        if picked is not None:
            st.divider()
            guarded(lambda: render_conversation(client, picked))

    guarded(render)


def _calls_section(client: ServiceClient) -> None:
    def render() -> None:
        picked = _picked_call(render_calls(client))
        if picked is not None:
            st.divider()
            guarded(lambda: render_detail(client, picked))

    guarded(render)


def _picked_call(calls: list[dict[str, Any]]) -> int | None:
    ids = [int(call["call_id"]) for call in calls]
    linked = st.query_params.get("call")
    if linked and linked.isdigit() and int(linked) not in ids:
        ids.insert(0, int(linked))  # a shared link to a call further down than the pages open
    labels = {int(call["call_id"]): f"#{call['call_id']} · {call.get('status')} · {call.get('raw_digits') or ''}"
              for call in calls}
    default = ids.index(int(linked)) if linked and linked.isdigit() else None
    picked = st.selectbox(
        "Open a call",
        ids,
        index=default,
        format_func=lambda call_id: labels.get(call_id, f"#{call_id}"),
        placeholder="Choose a call to see its timeline, attempts and Retry",
        key="selected_call",
    )
    if picked is not None:
        st.query_params["call"] = str(picked)
    return None if picked is None else int(picked)


main()
