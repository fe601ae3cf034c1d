"""The call summary the ops API lists beside each call: one rule, for the web's intake and the worker.

The worker writes it from the reduced call (all its events). The web writes part of it as each event
arrives, so a call shows its caller, line and agent before its first sync: the same rule applied to
that one event (`reduce_call([event])`), limited to `EVENT_FIELDS`, the fields one event can leave
incomplete but not wrong. A call's type or answer time read off a single event would be (a call
ringing looks missed), so those wait for the worker. The agent is always `CallState.agent`: who
made the call or answered it, never an agent it merely rang.
"""

from __future__ import annotations

from typing import Any

from insight.domain.aircall_events import Envelope, is_call_event
from insight.domain.callstate import CallState, reduce_call
from insight.domain.callstate_json import to_datetime

#: the summary fields one event fills on its own (None: this event does not tell)
EVENT_FIELDS = ("direction", "raw_digits", "started_at", "number_name", "agent_email", "agent_id")
#: longest texts kept (the widths of their `calls` columns)
NUMBER_NAME_MAX = 200
EMAIL_MAX = 320


def call_summary(state: CallState) -> dict[str, Any]:
    """The summary of a reduced call, keyed by the `calls` column each value is stored in."""
    agent = state.agent
    return {
        "direction": state.direction,
        "call_type": state.call_type,
        "agent_email": _cut(agent.email, EMAIL_MAX) if agent else None,
        "agent_id": agent.id if agent else None,
        "number_name": _cut(state.number_name, NUMBER_NAME_MAX),
        "raw_digits": state.raw_digits,
        "started_at": to_datetime(state.started_at),
        "answered_at": to_datetime(state.answered_at),
        "ended_at": to_datetime(state.ended_at),
        "is_over": state.is_over,
    }


def event_summary(event: Envelope) -> dict[str, Any]:
    """`EVENT_FIELDS` of the summary, from one call event alone (the web's intake writes these)."""
    if not is_call_event(event.event):
        # an AI event tells nothing of the call's summary: every field stays as it is
        return dict.fromkeys(EVENT_FIELDS)
    summary = call_summary(reduce_call([event]))
    return {name: summary[name] for name in EVENT_FIELDS}


def _cut(text: str | None, limit: int) -> str | None:
    return text[:limit] if text else None
