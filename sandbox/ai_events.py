"""Aircall's AI ("conversation intelligence") webhooks of one call, and the REST answers behind them.

reference/aircall-next.md §1: summary, topics, sentiment, action items and transcript each arrive as
their own event, minutes after the call ended, with `data.call_id` (an integer in some sources, a
string in others) and `data.id` the insight's own id. The exact bodies are unconfirmed, so the
builder plays the documented variants: sentiment per participant or in `content`, action items one
event per item or one list, and an event may leave its content out for the REST endpoint to give
(`REST_PATHS`; wrapper keys as third-party parsers read them, also unconfirmed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sandbox.aircall_objects import Json
from sandbox.calls import CallKind, CallScript, ScheduledEvent

#: the insight kinds, their events and the REST path of each (`GET /v1/calls/{id}/<path>`)
KINDS: dict[str, tuple[str, str]] = {
    "summary": ("summary.created", "summary"),
    "topics": ("topics.created", "topics"),
    "sentiment": ("sentiment.created", "sentiments"),
    "action_items": ("action_item.created", "action_items"),
    "transcript": ("transcription.created", "transcription"),
}
#: AI runs on calls with a conversation: answered ones, and a voicemail's message
AI_CALL_KINDS = frozenset({CallKind.INBOUND_ANSWERED, CallKind.OUTBOUND_ANSWERED, CallKind.TRANSFERRED,
                           CallKind.VOICEMAIL})
#: minutes after call.ended: the transcript first, the rest built from it
DEFAULT_DELAYS_S = {"transcript": 60, "summary": 120, "topics": 125, "sentiment": 130, "action_items": 135}


@dataclass(frozen=True)
class AiScript:
    """How the AI events of one call are shaped (each a documented variant)."""

    #: kinds sent without their content (the REST endpoint has it)
    without_content: frozenset[str] = frozenset({"transcript"})
    call_id_as: Literal["int", "string"] = "int"
    sentiment_in: Literal["participants", "content"] = "participants"
    action_items_as: Literal["one_event_each", "one_list"] = "one_event_each"
    delays_s: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DELAYS_S))
    #: utterances in the transcript (a long call makes a long one)
    transcript_lines: int = 12


def contents(call: CallScript, *, transcript_lines: int = 12) -> dict[str, Json]:
    """What the AI found in `call`, per kind, as the CI object's `content`/`participants` (deterministic)."""
    topic = ("the Java contract role" if call.call_id % 3 == 0 else "the interview next week" if call.call_id % 3 == 1
             else "references for the placement")
    agent = call.agent.name.split()[0]
    mood = ("POSITIVE", "NEUTRAL", "NEGATIVE")[call.call_id % 3] if call.kind is not CallKind.VOICEMAIL else "NEUTRAL"
    lines = [
        {"start_time": round(index * 7.5, 1), "end_time": round(index * 7.5 + 6, 1),
         "participant_type": "internal" if index % 2 == 0 else "external",
         "text": (f"Hi, it's {agent} from the agency about {topic}." if index == 0 else
                  f"Point {index} about {topic}: availability, rate and start date.")}
        for index in range(transcript_lines)
    ]
    return {
        "summary": {"content": f"The caller and {agent} discussed {topic}. They agreed on next steps and a "
                               "follow-up call."},
        "topics": {"content": [topic.removeprefix("the ").capitalize(), "Availability", "Rate"]},
        "sentiment": {"participants": [
            {"participant_type": "external", "phone_number": call.raw_digits, "value": mood},
            {"participant_type": "internal", "user_id": call.agent.aircall_id},
        ]},
        "action_items": {"content": [f"Send the details of {topic}", f"{agent} to call back on Monday"]},
        "transcript": {"content": {"language": "en", "utterances": lines}},
    }


def ai_lifecycle(call: CallScript, *, token: str, shape: AiScript | None = None) -> list[ScheduledEvent]:
    """The call's AI webhooks, each at its offset from the call's start (after `call.ended`)."""
    shape = shape or AiScript()
    found = contents(call, transcript_lines=shape.transcript_lines)
    call_id: int | str = str(call.call_id) if shape.call_id_as == "string" else call.call_id
    events: list[ScheduledEvent] = []
    for kind, (event, _) in KINDS.items():
        at_s = call.ended_s + shape.delays_s.get(kind, DEFAULT_DELAYS_S[kind])
        bodies = _bodies(kind, found[kind], shape)
        for index, body in enumerate(bodies):
            insight_id = call.call_id * 100 + list(KINDS).index(kind) * 10 + index
            data: Json = {"id": insight_id, "call_id": call_id, "call_uuid": f"CA{call.call_id:032x}",
                          "number_id": call.line.id, "type": "voicemail" if call.kind is CallKind.VOICEMAIL
                          else "call", "ai_generated": True,
                          "created_at": _iso(call.started_at + at_s + index)}
            if kind not in shape.without_content:
                data.update(body)
            events.append(ScheduledEvent(at_s + index, {
                "resource": "conversation_intelligence", "event": event,
                "timestamp": call.started_at + at_s + index, "token": token, "data": data}))
    return events


def rest_answers(call: CallScript, *, shape: AiScript | None = None) -> dict[str, Json]:
    """`GET /v1/calls/{id}/<path>` answers, by path."""
    shape = shape or AiScript()
    found = contents(call, transcript_lines=shape.transcript_lines)
    base: Json = {"id": call.call_id * 100, "call_id": call.call_id, "type": "call",
                  "call_created_at": _iso(call.started_at)}
    return {
        "summary": {"summary": {**base, **found["summary"]}},
        "topics": {"topic": {**base, **found["topics"]}},
        "sentiments": {"sentiment": {**base, **found["sentiment"]}},
        "action_items": {"call_id": call.call_id, "action_items": [
            {"content": item, "ai_generated": True} for item in found["action_items"]["content"]]},
        "transcription": {"transcription": {**base, **found["transcript"]}},
    }


def _bodies(kind: str, found: Json, shape: AiScript) -> list[Json]:
    if kind == "sentiment" and shape.sentiment_in == "content":
        external = next(p for p in found["participants"] if p["participant_type"] == "external")
        return [{"content": external["value"]}]
    if kind == "action_items" and shape.action_items_as == "one_event_each":
        return [{"content": item} for item in found["content"]]
    return [found]


def _iso(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
