"""Aircall Call objects and call webhooks, built as pure data from a script of one call.

A `CallScript` says what happens during one call (who, on which line, how long it rang and lasted,
which tags and comments came when); `lifecycle()` turns it into the webhooks Aircall would send,
each at its offset from the start of the call and each carrying the call *as it was then*
(reference/aircall.md §2–3): `call.hungup` right at hang-up with incomplete data, `call.ended`
about 30 s later with the recording, `call.voicemail_left` after that, comments a minute or more
after hang-up, and tags whenever the agent (or Aircall itself) put them on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from sandbox.aircall_objects import (
    API_BASE,
    Json,
    asset_url,
    number_object,
    signed_url,
    tag_id,
    team_object,
    user_object,
)
from sandbox.people import SYSTEM_TAGS, Agent, Line

#: Aircall sends call.ended "about 30 s after hang-up", once all call data is gathered
ENDED_DELAY_S = 30
#: observed: call.voicemail_left arrived 3 s after call.ended
VOICEMAIL_LEFT_DELAY_S = 3


class CallKind(StrEnum):
    INBOUND_ANSWERED = "inbound_answered"
    OUTBOUND_ANSWERED = "outbound_answered"
    OUTBOUND_UNANSWERED = "outbound_unanswered"
    MISSED = "missed"
    VOICEMAIL = "voicemail"
    TRANSFERRED = "transferred"


_INBOUND = {CallKind.INBOUND_ANSWERED, CallKind.MISSED, CallKind.VOICEMAIL, CallKind.TRANSFERRED}
_ANSWERED = {CallKind.INBOUND_ANSWERED, CallKind.OUTBOUND_ANSWERED, CallKind.TRANSFERRED}


@dataclass(frozen=True)
class TagScript:
    name: str
    #: seconds after the call started (during the call, in wrap-up after hang-up, or much later)
    at_s: int
    #: seconds after the call started when the tag is taken off again (call.untagged), if ever
    removed_at_s: int | None = None
    #: put on by Aircall or the API, so `tagged_by` is `{}`; None means "if the name is a system tag"
    system: bool | None = None

    @property
    def is_system(self) -> bool:
        return self.name in SYSTEM_TAGS if self.system is None else self.system


@dataclass(frozen=True)
class CommentScript:
    content: str
    #: seconds after the call started
    at_s: int


@dataclass(frozen=True)
class CallScript:
    """One call, from the first ring to the last late tag. Offsets are seconds after `started_at`."""

    call_id: int
    kind: CallKind
    #: makes the call (outbound) or answers it (inbound); tags and comments are theirs
    agent: Agent
    line: Line
    #: the other party as Aircall writes it ("+44 20 7946 0958") or "anonymous"
    raw_digits: str
    started_at: int
    ring_s: int = 8
    talk_s: int = 0
    voicemail_s: int = 0
    #: inbound: agents the call rings on, one call.ringing_on_agent each; default: just `agent`
    rung: tuple[Agent, ...] = ()
    transfer_to: Agent | None = None
    #: seconds after the call started; default a third into the conversation
    transfer_at_s: int | None = None
    tags: tuple[TagScript, ...] = ()
    comments: tuple[CommentScript, ...] = ()
    #: default for unanswered inbound calls: agents_did_not_answer
    missed_call_reason: str | None = None
    ended_delay_s: int = ENDED_DELAY_S
    rung_agents: tuple[Agent, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind is CallKind.TRANSFERRED and self.transfer_to is None:
            raise ValueError("a transferred call needs transfer_to")
        if self.kind in _ANSWERED and self.talk_s <= 0:
            raise ValueError("an answered call needs talk_s > 0")
        if self.kind is CallKind.VOICEMAIL and self.voicemail_s <= 0:
            raise ValueError("a voicemail call needs voicemail_s > 0")
        object.__setattr__(self, "rung_agents", self.rung or (self.agent,))

    @property
    def direction(self) -> str:
        return "inbound" if self.kind in _INBOUND else "outbound"

    @property
    def answered_s(self) -> int | None:
        return self.ring_s if self.kind in _ANSWERED else None

    @property
    def hangup_s(self) -> int:
        return self.ring_s + self.talk_s + (self.voicemail_s if self.kind is CallKind.VOICEMAIL else 0)

    @property
    def ended_s(self) -> int:
        return self.hangup_s + self.ended_delay_s

    @property
    def transferred_s(self) -> int | None:
        if self.kind is not CallKind.TRANSFERRED:
            return None
        return self.transfer_at_s if self.transfer_at_s is not None else self.ring_s + max(1, self.talk_s // 3)


class ScheduledEvent(NamedTuple):
    #: seconds after the call started
    send_at_s: int
    envelope: Json


def call_at(script: CallScript, at_s: int, *, ringing: Agent | None = None) -> Json:
    """The Call object as Aircall would send it `at_s` seconds after the call started.

    `ringing` is the agent a call.ringing_on_agent is about: that event's `user` is the agent
    being rung, even though the call itself has no user yet.
    """
    now = script.started_at + at_s
    answered_s = script.answered_s
    answered = answered_s is not None and at_s >= answered_s
    done = at_s >= script.hangup_s
    # Recording, voicemail and asset only appear once Aircall has gathered the call's data (call.ended).
    gathered = at_s >= script.ended_s
    call: Json = {
        "id": script.call_id,
        "direct_link": f"{API_BASE}/calls/{script.call_id}",
        "direction": script.direction,
        "status": "done" if done else "answered" if answered else "initial",
        "missed_call_reason": None,
        "started_at": script.started_at,
        "answered_at": script.started_at + answered_s if answered and answered_s is not None else None,
        "ended_at": script.started_at + script.hangup_s if done else None,
        "duration": script.hangup_s if done else None,
        "cost": "0.0",
        "hangup_cause": None,
        "raw_digits": script.raw_digits,
        "asset": None,
        "recording": None,
        "voicemail": None,
    }
    if done and script.direction == "inbound" and answered_s is None:
        call["missed_call_reason"] = script.missed_call_reason or "agents_did_not_answer"
    if gathered and answered_s is not None:
        call["recording"] = signed_url(script.call_id, "recording", now)
        call["asset"] = asset_url(script.call_id, "recording")
    if gathered and script.kind is CallKind.VOICEMAIL:
        call["voicemail"] = signed_url(script.call_id, "voicemail", now)
        call["asset"] = asset_url(script.call_id, "voicemail")
    # The key is absent (not null) on unanswered inbound calls and voicemails.
    if ringing is not None:
        call["user"] = user_object(ringing)
    elif script.direction == "outbound" or answered:
        call["user"] = user_object(script.agent)
    transferred_s = script.transferred_s
    transferred = transferred_s is not None and at_s >= transferred_s and script.transfer_to is not None
    call.update({
        "number": number_object(script.line),
        "archived": False,
        "teams": [team_object(script.line)] if script.direction == "inbound" else [],
        "comments": [_comment(script, index) for index, c in enumerate(script.comments) if c.at_s <= at_s],
        "tags": _tags_at(script, at_s),
        "transferred_by": user_object(script.agent) if transferred else None,
        "transferred_to": user_object(script.transfer_to) if transferred and script.transfer_to else None,
        "assigned_to": None,
        "contact": None,
    })
    return call


def envelope(event: str, call: Json, *, token: str, timestamp: int) -> Json:
    return {"resource": "call", "event": event, "timestamp": timestamp, "token": token, "data": call}


def lifecycle(script: CallScript, *, token: str) -> list[ScheduledEvent]:
    """Every webhook of the call, in the order Aircall sends them, each with its offset in seconds."""
    planned: list[tuple[int, str, Agent | None]] = [(0, "call.created", None)]
    if script.direction == "inbound":
        for index, agent in enumerate(script.rung_agents):
            planned.append((min(1 + index, max(script.ring_s - 1, 0)), "call.ringing_on_agent", agent))
    if script.answered_s is not None:
        planned.append((script.answered_s, "call.answered", None))
    if script.transferred_s is not None:
        planned.append((script.transferred_s, "call.transferred", None))
    for tag in script.tags:
        planned.append((tag.at_s, "call.tagged", None))
        if tag.removed_at_s is not None:
            planned.append((tag.removed_at_s, "call.untagged", None))
    planned.append((script.hangup_s, "call.hungup", None))
    planned.append((script.ended_s, "call.ended", None))
    if script.kind is CallKind.VOICEMAIL:
        planned.append((script.ended_s + VOICEMAIL_LEFT_DELAY_S, "call.voicemail_left", None))
    planned.extend((comment.at_s, "call.commented", None) for comment in script.comments)
    planned.sort(key=lambda item: item[0])
    events: list[ScheduledEvent] = []
    last_second: dict[str, int] = {}
    for at_s, event, ringing in planned:
        # A redelivery is recognised by (event, call id, timestamp), so two events of one kind
        # in the same second would look like one delivered twice; Aircall's are seconds apart.
        if last_second.get(event, -1) >= at_s:
            at_s = last_second[event] + 1
        last_second[event] = at_s
        call = call_at(script, at_s, ringing=ringing)
        events.append(ScheduledEvent(at_s, envelope(event, call, token=token, timestamp=script.started_at + at_s)))
    events.sort(key=lambda item: item.send_at_s)
    return events


def final_call(script: CallScript) -> Json:
    """The call once everything has happened: what `GET /v1/calls/{id}` answers afterwards."""
    last = max([script.ended_s + VOICEMAIL_LEFT_DELAY_S, *(t.at_s for t in script.tags),
                *(t.removed_at_s or 0 for t in script.tags), *(c.at_s for c in script.comments)])
    return call_at(script, last)


def _tags_at(script: CallScript, at_s: int) -> list[Json]:
    current = [
        tag for tag in script.tags
        if tag.at_s <= at_s and (tag.removed_at_s is None or tag.removed_at_s > at_s)
    ]
    current.sort(key=lambda tag: tag.at_s)
    return [
        {
            "id": tag_id(tag.name),
            "name": tag.name,
            "tagged_by": {} if tag.is_system else user_object(script.agent),
            "tagged_at": script.started_at + tag.at_s,
        }
        for tag in current
    ]


def _comment(script: CallScript, index: int) -> Json:
    comment = script.comments[index]
    return {
        "id": script.call_id * 10 + index,
        "content": comment.content,
        "posted_at": script.started_at + comment.at_s,
        "posted_by": user_object(script.agent),
    }
