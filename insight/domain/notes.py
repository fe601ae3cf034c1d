"""The Bullhorn Note of a call: the create body, the minimal update, and a stable hash of a body.

One note per call (DESIGN §4): `compose_note` builds the `PUT entity/Note` body from the reduced
call; when tags, comments or the recording arrive later, `note_update` turns the old and the new
body into the partial `POST entity/Note/{id}` body; `body_hash` tells "synced and unchanged".
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from insight.domain.actions import MAX_ACTION_LEN
from insight.domain.callstate import CallState

#: sdk-rest caps Note.externalID at 50 characters although the column is String(100).
MAX_EXTERNAL_ID_LEN = 50
EXTERNAL_ID_PREFIX = "aircall:"
#: fields a partial update may carry. Associations (personReference, candidates, clientContacts)
#: are set once at create: Bullhorn does not replace to-many lists on update (that takes
#: NoteEntity calls), and re-sending personReference invites the DUPLICATE_VALUE trap.
UPDATABLE_FIELDS = ("comments", "action", "minutesSpent", "commentingPerson", "dateAdded")
#: of those, the only one that may be cleared (the others are not-null or meaningless when empty)
_CLEARABLE_FIELDS = frozenset({"action"})

_HEADLINES = {"outbound": "Outbound call", "inbound": "Inbound call", "voicemail": "Voicemail", "missed": "Missed call"}
_TO_MANY = {"Candidate": "candidates", "ClientContact": "clientContacts"}

PersonEntity = Literal["Candidate", "ClientContact"]


@dataclass(frozen=True)
class PersonRef:
    entity: PersonEntity
    id: int


def external_id(call_id: int) -> str:
    value = f"{EXTERNAL_ID_PREFIX}{call_id}"
    if len(value) > MAX_EXTERNAL_ID_LEN:
        raise ValueError(f"externalID {value!r} is longer than {MAX_EXTERNAL_ID_LEN} characters")
    return value


def is_shared_number(match_count: int, max_associated: int) -> bool:
    """A number held by more records than `max_associated` (`CALLBRIDGE_MAX_ASSOCIATED`): a switchboard.

    Its note goes on the primary match only, and the call is flagged `shared_number`.
    """
    return match_count > max_associated


def also_about(person: PersonRef, others: Sequence[PersonRef], max_associated: int) -> dict[str, Any]:
    """A note's `candidates` / `clientContacts`: the other records with the number, unless it is shared.

    Bullhorn links `personReference` to the note by itself: listing it again in candidates or
    clientContacts is the duplicate NoteEntity that fails with 500 DUPLICATE_VALUE.
    """
    extra = _distinct(other for other in others if other != person)
    if is_shared_number(1 + len(extra), max_associated):
        return {}
    fields: dict[str, Any] = {}
    for entity, key in _TO_MANY.items():
        ids = [{"id": other.id} for other in extra if other.entity == entity]
        if ids:
            fields[key] = ids
    return fields


def compose_note(
    state: CallState,
    *,
    person: PersonRef,
    others: Sequence[PersonRef],
    author_id: int | None,
    action: str | None,
    max_associated: int,
    extra_parts: Sequence[str] = (),
) -> dict[str, Any]:
    """The `PUT entity/Note` body for `state`, about `person`, also linked to `others`.

    Without `author_id` the body carries no `commentingPerson`, and Bullhorn makes the API user the
    author. A shared number (`is_shared_number` over person and others) goes on `person` only.
    `extra_parts` (HTML paragraphs, e.g. the AI sections) go before the closing call number.
    """
    if action is not None and len(action) > MAX_ACTION_LEN:
        raise ValueError(f"action {action!r} is longer than Bullhorn's {MAX_ACTION_LEN} characters")
    body: dict[str, Any] = {"personReference": {"id": person.id}, **also_about(person, others, max_associated)}
    if author_id is not None:
        body["commentingPerson"] = {"id": author_id}
    if action:
        body["action"] = action
    body["comments"] = note_comments(state, extra_parts)
    if state.started_at is not None:
        body["dateAdded"] = state.started_at * 1000
    body["minutesSpent"] = math.ceil(state.talk_time_s / 60)
    body["externalID"] = external_id(state.call_id)
    return body


def note_update(previous_body: Mapping[str, Any], new_body: Mapping[str, Any]) -> dict[str, Any]:
    """The partial `POST entity/Note/{id}` body turning `previous_body` into `new_body`; {} when equal."""
    update: dict[str, Any] = {}
    for key in UPDATABLE_FIELDS:
        if key in new_body:
            if previous_body.get(key) != new_body[key]:
                update[key] = new_body[key]
        elif key in previous_body and key in _CLEARABLE_FIELDS:
            # The tag behind the action was removed and no default applies: clear it.
            update[key] = None
    return update


def body_hash(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def note_comments(state: CallState, extra_parts: Sequence[str] = ()) -> str:
    """The note text as HTML; every value from Aircall is escaped (`extra_parts` must be already)."""
    headline = f"<b>{_HEADLINES[state.call_type]}</b>"
    if state.number_name:
        headline += f" on {_e(state.number_name)}"
    if state.number_digits:
        headline += f" ({_e(state.number_digits)})"
    lines = [headline]
    other_party = _e(state.raw_digits) if state.raw_digits else "unknown number"
    lines.append(f"{'To' if state.direction == 'outbound' else 'From'}: {other_party}")
    if state.agent is not None:
        lines.append(f"Agent: {_e(state.agent.name or state.agent.email or f'Aircall user {state.agent.id}')}")
    if state.answered_at is not None:
        lines.append(f"Talk time: {format_talk_time(state.talk_time_s)}")
    elif state.call_type == "outbound":
        lines.append("Not answered")
    if state.missed_call_reason and state.call_type in ("missed", "voicemail"):
        lines.append(f"Reason: {_e(state.missed_call_reason.replace('_', ' '))}")
    parts = ["<p>" + "<br>".join(lines) + "</p>"]
    for comment in state.comments:
        author = comment.author.name if comment.author is not None and comment.author.name else None
        prefix = f"<b>{_e(author)}:</b> " if author else ""
        parts.append(f"<p>{prefix}{_multiline(comment.content)}</p>")
    if state.asset and _is_web_link(state.asset):
        label = "Voicemail" if state.call_type == "voicemail" else "Recording"
        parts.append(f'<p>{label}: <a href="{_e(state.asset)}">{_e(state.asset)}</a></p>')
    parts.extend(extra_parts)
    parts.append(f"<p>Aircall call #{state.call_id}</p>")
    return "\n".join(parts)


def format_talk_time(seconds: int) -> str:
    """`4 min 05 s`, `45 s`, `1 h 02 min 05 s`."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _distinct(people: Iterable[PersonRef]) -> list[PersonRef]:
    seen: list[PersonRef] = []
    for person in people:
        if person.entity not in _TO_MANY:
            raise ValueError(f"a note can only also name Candidates and ClientContacts, not {person.entity!r}")
        if person not in seen:
            seen.append(person)
    return seen


#: bidirectional controls (embeddings, overrides, isolates, marks) reorder what the recruiter reads
#: ("Trojan Source"): a caller's name or a comment could make the note say something else
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def _e(value: str) -> str:
    """Aircall text as note HTML: escaped, and without bidi controls."""
    return html.escape(value.translate(_BIDI_CONTROLS), quote=True)


def _multiline(text: str) -> str:
    return "<br>".join(_e(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


#: for other parts of a note (insight.domain.ai_insights): the same escaping
escape_html = _e
multiline_html = _multiline


def _is_web_link(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
