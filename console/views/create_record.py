"""On an unmatched call: create the Bullhorn record for its number (a Candidate, or a Contact of a company)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.client import ServiceClient, ServiceError, ServiceFailed
from console.views.common import md

ENTITIES = ("Candidate", "ClientContact")


def render_create_record(client: ServiceClient, call: dict[str, Any]) -> None:
    call_id = int(call["call_id"])
    with st.expander(f"Create a Bullhorn record for {call.get('raw_digits') or 'this number'}", expanded=True):
        entity = st.radio("Record", ENTITIES, horizontal=True, key=f"new-entity-{call_id}",
                          format_func=lambda name: "Contact" if name == "ClientContact" else name)
        first, last = st.columns(2)
        first.text_input("First name", key=f"new-first-{call_id}")
        last.text_input("Last name", key=f"new-last-{call_id}")
        if entity == "ClientContact":
            _company_picker(client, call_id)
        st.button("Create the record and write the call's note", key=f"create-{call_id}", type="primary",
                  on_click=_send, args=(client, call_id))
        outcome = st.session_state.get("create_outcomes", {}).get(call_id)
        if outcome:
            kind, message = outcome
            {"success": st.success, "error": st.error}[kind](message)


def _company_picker(client: ServiceClient, call_id: int) -> None:
    text = st.text_input("Company (type the first letters of its name)", key=f"new-company-q-{call_id}").strip()
    companies: list[dict[str, Any]] = []
    if text:
        try:
            companies = client.companies(text)
        except ServiceError as error:
            st.warning(md(error))
    if text and not companies:
        st.caption("No ClientCorporation has a name starting with that.")
    if companies:
        names = {int(company["id"]): str(company.get("name")) for company in companies}
        st.selectbox("Company", list(names), format_func=lambda key: f"{names[key]} (#{key})",
                     key=f"new-company-{call_id}")


def _send(client: ServiceClient, call_id: int) -> None:
    state = st.session_state
    outcomes: dict[int, tuple[str, str]] = state.setdefault("create_outcomes", {})
    record: dict[str, Any] = {"entity": state.get(f"new-entity-{call_id}"),
                              "first_name": state.get(f"new-first-{call_id}", ""),
                              "last_name": state.get(f"new-last-{call_id}", "")}
    if record["entity"] == "ClientContact" and state.get(f"new-company-{call_id}") is not None:
        record["client_corporation_id"] = int(state[f"new-company-{call_id}"])
    try:
        answer = client.create_record(call_id, record)
        outcomes[call_id] = ("success", f"Created {md(answer.get('entity'))} #{answer.get('id')}: "
                                        f"{md(answer.get('detail', ''))}")
    except ServiceFailed as refusal:
        outcomes[call_id] = ("error", f"Not created: {md(refusal.detail)}")
    except ServiceError as error:
        outcomes[call_id] = ("error", md(error))
