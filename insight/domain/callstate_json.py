"""A reduced call as the JSON the ops API reads from `calls.state_json` (timestamps ISO 8601 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from insight.domain.callstate import AgentRef, CallState
from shared.timefmt import iso_from_epoch


def state_to_json(state: CallState) -> dict[str, Any]:
    """The call summary stored beside each call; the key set is a contract with the ops API."""
    return {
        "call_id": state.call_id,
        "direction": state.direction,
        "call_type": state.call_type,
        "agent": _agent(state.agent),
        "number_name": state.number_name,
        "number_digits": state.number_digits,
        "raw_digits": state.raw_digits,
        "started_at": iso(state.started_at),
        "answered_at": iso(state.answered_at),
        "ended_at": iso(state.ended_at),
        "talk_time_s": state.talk_time_s,
        "tags": [
            {"name": tag.name, "tagged_at": iso(tag.tagged_at), "by_agent": tag.tagged_by is not None}
            for tag in state.tags
        ],
        "first_agent_tag": state.first_agent_tag,
        "comments": [
            {
                "id": comment.id,
                "content": comment.content,
                "posted_at": iso(comment.posted_at),
                "author": _agent_name(comment.author),
            }
            for comment in state.comments
        ],
        "asset": state.asset,
        "is_over": state.is_over,
        "hung_up": state.hung_up,
        "events_seen": sorted(state.events_seen),
    }


def to_datetime(epoch_s: int | None) -> datetime | None:
    return None if epoch_s is None else datetime.fromtimestamp(epoch_s, UTC)


def iso(epoch_s: int | None) -> str | None:
    return None if epoch_s is None else iso_from_epoch(epoch_s)


def _agent(agent: AgentRef | None) -> dict[str, Any] | None:
    return None if agent is None else {"id": agent.id, "name": agent.name, "email": agent.email}


def _agent_name(agent: AgentRef | None) -> str | None:
    if agent is None:
        return None
    return agent.name or agent.email or f"Aircall user {agent.id}"
