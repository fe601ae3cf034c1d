"""One call: what went wrong in plain words first, then links, Retry, the timeline and every attempt."""

from __future__ import annotations

from typing import Any

import streamlit as st

from console.client import RetryRefused, ServiceClient, ServiceError
from console.views.ai_note import render_ai
from console.views.common import STATUS_MEANINGS, code, md, status_badge, when
from console.views.create_record import render_create_record
from shared.states import NEEDS_A_PERSON

_NEEDS_A_PERSON = tuple(str(state) for state in NEEDS_A_PERSON)


def render_detail(client: ServiceClient, call_id: int) -> None:
    call = client.call(call_id)
    status = str(call.get("status") or "")
    title, badge = st.columns([4, 1])
    title.subheader(f"Call #{call_id}")
    with badge:
        status_badge(status)
    _explanation(call, status)
    _retry(client, call_id)
    if status == "unmatched" and not call.get("match"):
        render_create_record(client, call)
    _facts(call)
    _links(call)
    _flags(call)
    render_ai(call)
    st.markdown("#### Timeline")
    events = call.get("events") or []
    if events:
        st.dataframe(
            [
                {"event": e.get("event"), "happened": when(e.get("timestamp")), "received": when(e.get("received_at"))}
                for e in events
            ],
            hide_index=True,
        )
    else:
        st.caption("No events stored for this call.")
    st.markdown("#### Attempts")
    attempts = call.get("attempts") or []
    if not attempts:
        st.caption("No Bullhorn write has been attempted yet.")
    for attempt in attempts:
        _attempt(attempt)


def _explanation(call: dict[str, Any], status: str) -> None:
    # an old attempt's failure must not headline a call that has since synced
    fallback = _last_attempt_explanation(call) if status != "synced" else None
    explanation = call.get("explanation") or fallback
    meaning = STATUS_MEANINGS.get(status, status)
    text = f"**{md(explanation)}**\n\n_{status}: {meaning}._" if explanation else f"_{status}: {meaning}._"
    if status in _NEEDS_A_PERSON:
        st.error(text, icon="🛠️")
    elif status == "retrying":
        st.warning(text, icon="⏳")
    elif status == "synced":
        st.success(text, icon="✅")
    else:
        st.info(text)


def _retry(client: ServiceClient, call_id: int) -> None:
    # A callback runs before the rerun, so the call read below already shows the retried state.
    st.button(
        "Retry: look up again and rewrite the note",
        key=f"retry-{call_id}",
        type="primary",
        on_click=_send_retry,
        args=(client, call_id),
    )
    outcomes: dict[int, tuple[str, str]] = st.session_state.get("retry_outcomes", {})
    if call_id in outcomes:
        kind, message = outcomes[call_id]
        {"success": st.success, "warning": st.warning, "error": st.error}[kind](message)


def _send_retry(client: ServiceClient, call_id: int) -> None:
    outcomes: dict[int, tuple[str, str]] = st.session_state.setdefault("retry_outcomes", {})
    try:
        answer = client.retry(call_id)
        outcomes[call_id] = ("success",
                             f"Queued again: now **{md(answer.get('status'))}**. {md(answer.get('detail', ''))}")
    except RetryRefused as refusal:
        outcomes[call_id] = ("warning", f"Nothing to retry: {md(refusal.detail)}")
    except ServiceError as error:
        outcomes[call_id] = ("error", md(error))


def _facts(call: dict[str, Any]) -> None:
    match = call.get("match")
    left, right = st.columns(2)
    left.markdown(
        "\n".join(
            [
                f"- **Direction / type:** {md(call.get('direction') or '?')} / {md(call.get('type') or '?')}",
                f"- **Agent:** {md(call.get('agent_email') or 'none')}",
                f"- **Other party:** {md(call.get('raw_digits') or '?')} on line {md(call.get('number_name') or '?')}",
                f"- **Started / ended:** {when(call.get('started_at'))} / {when(call.get('ended_at'))}",
            ]
        )
    )
    who = md(f"{match.get('name') or '?'} ({match.get('entity')} {match.get('id')})") if match else "no match"
    right.markdown(
        "\n".join(
            [
                f"- **Matched:** {who}",
                f"- **Note:** {call.get('note_id') or 'not written yet'}",
                f"- **Action:** {md(call.get('action') or 'none')}",
                f"- **Tags:** {md(', '.join(str(t.get('name')) for t in call.get('tags') or []) or 'none')}",
            ]
        )
    )


def _links(call: dict[str, Any]) -> None:
    note, card = st.columns(2)
    if call.get("note_link"):
        note.link_button("Open the note in Bullhorn", str(call["note_link"]))
    elif call.get("note_id"):
        note.caption(f"Note {call['note_id']} (Bullhorn's address is unknown right now)")
    if call.get("card_url"):
        card.link_button("Open the Insight Card", str(call["card_url"]))


def _flags(call: dict[str, Any]) -> None:
    flags: dict[str, Any] = call.get("flags") or {}
    if flags.get("shared_number"):
        st.warning(
            f"This number is on {flags.get('match_count')} Bullhorn records: "
            "the note was logged on the primary one only."
        )
    for skipped in flags.get("skipped_tags") or []:
        st.warning(f"Tag {code(skipped.get('tag'))} was not used as the action ({md(skipped.get('problem'))}).")
    if flags.get("author_fallback"):
        st.info("The agent has no Bullhorn user with the same e-mail: the note was written by the default user.")
    for warning in flags.get("warnings") or []:
        st.warning(md(warning))
    _job_link(flags.get("job_link"))


#: DESIGN §13: why a tenant may turn CALLBRIDGE_LINK_JOB off
LINK_JOB_CAVEAT = ("Bullhorn Automation ignores notes that reference other records: a note linked to a job does "
                   "not trigger automations on candidate notes. Set CALLBRIDGE_LINK_JOB=0 if yours rely on them.")


def _job_link(link: Any) -> None:
    """The job the note is linked to (CALLBRIDGE_LINK_JOB), or why it is not."""
    if not isinstance(link, dict):
        return
    if link.get("job_id") is not None:
        st.info(f"**Job:** {md(link.get('reason') or 'linked to job #' + str(link['job_id']))}")
        st.caption(LINK_JOB_CAVEAT)
    elif link.get("reason"):
        st.caption(md(link["reason"]))


def _attempt(attempt: dict[str, Any]) -> None:
    code = attempt.get("status_code")
    head = f"{attempt.get('kind')} · {when(attempt.get('started_at'))} · {attempt.get('outcome') or 'unfinished'}"
    with st.container(border=True):
        st.markdown(f"**{head}**" + (f" · HTTP {code}" if code else ""))
        if attempt.get("explanation"):
            st.markdown(md(attempt["explanation"]))
        if attempt.get("error"):
            st.code(str(attempt["error"]), language=None)
        if attempt.get("request_summary"):
            st.caption(md(attempt["request_summary"]))


def _last_attempt_explanation(call: dict[str, Any]) -> str | None:
    for attempt in reversed(call.get("attempts") or []):
        if attempt.get("explanation"):
            return str(attempt["explanation"])
    return None
