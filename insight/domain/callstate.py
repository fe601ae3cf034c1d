"""The state of one call, reduced from its stored webhook events in any arrival order.

Aircall delivers at least once and in no particular order, and every payload is a snapshot of the
whole call when it was built. So the reducer first puts the events in a canonical order (payload
timestamp, then lifecycle rank, then the payload itself), drops exact duplicates, and folds: each
field keeps its latest known value (null was already made "absent" by the parser, so a later
snapshot without a value never erases an earlier one). The same events in any order, repeated any
number of times, give an equal `CallState`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from insight.domain.aircall_events import NOT_THE_AGENT_EVENTS, Envelope, coerce_int, is_call_event

Direction = Literal["inbound", "outbound"]
CallType = Literal["outbound", "inbound", "voicemail", "missed"]

# Tie-break for payloads built in the same second: the lifecycle order Aircall fires them in.
_LIFECYCLE = (
    "call.created", "call.ringing_on_agent", "call.agent_declined", "call.ivr_option_selected", "call.answered",
    "call.hold", "call.unhold", "call.transferred", "call.external_transferred", "call.unsuccessful_transfer",
    "call.hungup", "call.tagged", "call.untagged", "call.commented", "call.assigned", "call.archived", "call.ended",
    "call.voicemail_left", "call.comm_assets_generated",
)
_RANK = {event: rank for rank, event in enumerate(_LIFECYCLE)}
_SCALARS = ("started_at", "answered_at", "ended_at")
_TEXTS = ("raw_digits", "asset", "recording", "voicemail", "missed_call_reason", "external_transferred_to")


@dataclass(frozen=True)
class AgentRef:
    id: int
    name: str | None
    email: str | None


@dataclass(frozen=True)
class Comment:
    id: int | None
    content: str
    posted_at: int | None
    #: None when posted through the API (Aircall sends `posted_by: null`)
    author: AgentRef | None


@dataclass(frozen=True)
class Tag:
    id: int | None
    name: str
    tagged_at: int | None
    #: None for system/API tags (`tagged_by: {}` or missing), which never become the action
    tagged_by: AgentRef | None


@dataclass(frozen=True)
class Transfer:
    by: AgentRef | None
    to: AgentRef | None
    external_to: str | None
    unsuccessful: bool


@dataclass(frozen=True)
class CallState:
    call_id: int
    direction: Direction | None
    call_type: CallType
    #: who made (outbound) or answered (inbound) the call; None for missed calls and voicemails
    agent: AgentRef | None
    number_name: str | None
    number_digits: str | None
    #: the other party, or the literal "anonymous"
    raw_digits: str | None
    started_at: int | None
    answered_at: int | None
    ended_at: int | None
    #: ended_at - answered_at; Aircall's `duration` includes ringing, so it is not used
    talk_time_s: int
    comments: tuple[Comment, ...]
    #: the stable link (a page behind an Aircall login); prefer it to the signed URLs below
    asset: str | None
    #: signed URLs that expire within minutes or hours: secondary information only
    recording: str | None
    voicemail: str | None
    #: the current tags, ordered by tagged_at then name (Aircall documents no array order)
    tags: tuple[Tag, ...]
    #: the tags an agent pushed, in the order they were pushed
    agent_tags: tuple[Tag, ...]
    first_agent_tag: str | None
    #: `call.ended` seen: Aircall has gathered all call data (`call.hungup` comes ~30 s earlier)
    is_over: bool
    hung_up: bool
    missed_call_reason: str | None
    transfer: Transfer | None
    last_event_timestamp: int
    events_seen: frozenset[str]


def reduce_call(events: Iterable[Envelope]) -> CallState:
    """Fold the stored events of one call; raises ValueError when there are none or they mix calls."""
    # AI events name the call too, but carry no call snapshot (insight.domain.ai_insights reads them)
    ordered = _canonical_order(event for event in events if event.call_id is not None and is_call_event(event.event))
    if not ordered:
        raise ValueError("reduce_call needs at least one call event")
    call_ids = {event.call_id for event in ordered}
    if len(call_ids) > 1:
        raise ValueError(f"reduce_call got events of several calls: {sorted(i or 0 for i in call_ids)}")
    fold = _Fold()
    for event in reversed(ordered):
        fold.apply(event)
    return fold.state(call_id=ordered[0].call_id or 0)


def _canonical_order(events: Iterable[Envelope]) -> list[Envelope]:
    by_rank = sorted(events, key=lambda e: (e.timestamp, _RANK.get(e.event, len(_RANK)), e.event))
    ordered: list[Envelope] = []
    start = 0
    # The payload itself only decides between events of the same second, rank and name (rare), so it
    # is serialised only there; exact duplicates (redeliveries) meet in the same run and drop out.
    while start < len(by_rank):
        end = start + 1
        head = by_rank[start]
        while end < len(by_rank) and (by_rank[end].timestamp, by_rank[end].event) == (head.timestamp, head.event):
            end += 1
        run = by_rank[start:end]
        if len(run) == 1:
            ordered.append(head)
        else:
            unique = {_canonical(event.data): event for event in run}
            ordered.extend(unique[key] for key in sorted(unique))
        start = end
    return ordered


def _canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


class _Fold:
    """Fed the events newest first: each field keeps the first valid value it meets, i.e. the latest."""

    def __init__(self) -> None:
        self.direction: Direction | None = None
        self.numbers: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.number_name: str | None = None
        self.number_digits: str | None = None
        self.user: AgentRef | None = None
        self.rung: set[AgentRef] = set()
        self.transferred_by: AgentRef | None = None
        self.transferred_to: AgentRef | None = None
        self.tags: tuple[Tag, ...] | None = None
        self.comments: dict[tuple[int, int | str], Comment] = {}
        self.events: set[str] = set()
        self.last_timestamp = 0

    def apply(self, event: Envelope) -> None:
        data = event.data
        self.events.add(event.event)
        self.last_timestamp = max(self.last_timestamp, event.timestamp)
        if self.direction is None and data.get("direction") in ("inbound", "outbound"):
            self.direction = data["direction"]
        for key in _SCALARS:
            if key not in self.numbers and (value := coerce_int(data.get(key))) is not None:
                self.numbers[key] = value
        for key in _TEXTS:
            if key not in self.texts and (text := _text(data.get(key))) is not None:
                self.texts[key] = text
        number = data.get("number")
        if isinstance(number, dict):
            self.number_name = self.number_name or _text(number.get("name"))
            self.number_digits = self.number_digits or _text(number.get("digits"))
        if event.event in NOT_THE_AGENT_EVENTS:
            self.rung.update(filter(None, [_agent(data.get("user"))]))
        elif self.user is None:
            self.user = _agent(data.get("user"))
        self.transferred_by = self.transferred_by or _agent(data.get("transferred_by"))
        self.transferred_to = self.transferred_to or _agent(data.get("transferred_to"))
        tags = data.get("tags")
        # Every call payload carries all current tags, so the latest list is the set; a payload
        # without the key says nothing (only `[]` means "no tags any more").
        if self.tags is None and isinstance(tags, list):
            self.tags = tuple(tag for tag in map(_tag, tags) if tag is not None)
        comments = data.get("comments")
        if isinstance(comments, list):
            for comment in filter(None, map(_comment, comments)):
                identity: tuple[int, int | str] = (0, comment.id) if comment.id is not None else (1, comment.content)
                self.comments.setdefault(identity, comment)

    def state(self, *, call_id: int) -> CallState:
        answered_at = self.numbers.get("answered_at")
        ended_at = self.numbers.get("ended_at")
        call_type = self._call_type(answered_at)
        agent = self.user if call_type in ("outbound", "inbound") else None
        if agent is None and call_type == "inbound" and len(self.rung) == 1:
            # Answered, but no later payload named the agent: a call rung on one agent only was taken by them.
            agent = next(iter(self.rung))
        talk = max(0, ended_at - answered_at) if answered_at is not None and ended_at is not None else 0
        tags = tuple(sorted(self.tags or (), key=_tag_order))
        agent_tags = tuple(tag for tag in tags if tag.tagged_by is not None)
        return CallState(
            call_id=call_id,
            direction=self.direction,
            call_type=call_type,
            agent=agent,
            number_name=self.number_name,
            number_digits=self.number_digits,
            raw_digits=self.texts.get("raw_digits"),
            started_at=self.numbers.get("started_at"),
            answered_at=answered_at,
            ended_at=ended_at,
            talk_time_s=talk,
            comments=tuple(sorted(self.comments.values(), key=_comment_order)),
            asset=self.texts.get("asset"),
            recording=self.texts.get("recording"),
            voicemail=self.texts.get("voicemail"),
            tags=tags,
            agent_tags=agent_tags,
            first_agent_tag=agent_tags[0].name if agent_tags else None,
            is_over="call.ended" in self.events,
            hung_up=bool(self.events & {"call.hungup", "call.ended"}) or ended_at is not None,
            missed_call_reason=self.texts.get("missed_call_reason"),
            transfer=self._transfer(),
            last_event_timestamp=self.last_timestamp,
            events_seen=frozenset(self.events),
        )

    def _call_type(self, answered_at: int | None) -> CallType:
        # There is no voicemail status: a voicemail is an inbound call with `voicemail` set (it also
        # has a missed_call_reason), and `call.voicemail_left` may arrive after `call.ended`.
        if "voicemail" in self.texts or "call.voicemail_left" in self.events:
            return "voicemail"
        if self.direction == "outbound":
            return "outbound"
        # Missed calls are `status: "done"` too; only answered_at tells them apart.
        return "inbound" if answered_at is not None else "missed"

    def _transfer(self) -> Transfer | None:
        external = self.texts.get("external_transferred_to")
        kinds = {"call.transferred", "call.external_transferred", "call.unsuccessful_transfer"}
        if not (self.events & kinds) and self.transferred_by is None and self.transferred_to is None and not external:
            return None
        return Transfer(
            by=self.transferred_by,
            to=self.transferred_to,
            external_to=external,
            unsuccessful="call.unsuccessful_transfer" in self.events,
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _agent(value: object) -> AgentRef | None:
    # `tagged_by: {}` marks a system/API tag, and a user object without an id names nobody.
    if not isinstance(value, dict):
        return None
    agent_id = coerce_int(value.get("id"))
    if agent_id is None:
        return None
    return AgentRef(id=agent_id, name=_text(value.get("name")), email=_text(value.get("email")))


def _tag(value: object) -> Tag | None:
    if not isinstance(value, dict) or _text(value.get("name")) is None:
        return None
    return Tag(
        id=coerce_int(value.get("id")),
        name=value["name"],
        tagged_at=coerce_int(value.get("tagged_at")),
        tagged_by=_agent(value.get("tagged_by")),
    )


def _comment(value: object) -> Comment | None:
    if not isinstance(value, dict) or not isinstance(value.get("content"), str):
        return None
    return Comment(
        id=coerce_int(value.get("id")),
        content=value["content"],
        posted_at=coerce_int(value.get("posted_at")),
        author=_agent(value.get("posted_by")),
    )


def _tag_order(tag: Tag) -> tuple[bool, int, str, int]:
    return (tag.tagged_at is None, tag.tagged_at or 0, tag.name, tag.id or 0)


def _comment_order(comment: Comment) -> tuple[bool, int, bool, int, str]:
    return (comment.posted_at is None, comment.posted_at or 0, comment.id is None, comment.id or 0, comment.content)
