"""SMS, MMS and WhatsApp messages as Bullhorn notes (DESIGN §12 "Messages"), as pure functions.

One note per person, per Aircall line, per UTC day, updated in place as the day's messages arrive.
`read_message` turns a `message.received` / `message.sent` envelope into an `IncomingMessage`,
accepting every shape reference/aircall-next.md §2 documents: ids as strings or numbers, the
customer's number in `external_number` (inbound webhooks), `raw_digits` (send responses, some
sources) or `to` (the send request), times as ISO strings or epoch milliseconds, the text in
`body` or `text` (WhatsApp), media in `media_details` or `media_url`. `compose_sms_note` builds the
note body from the day's messages.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from insight.domain.actions import MAX_ACTION_LEN
from insight.domain.aircall_events import Envelope, InvalidPayload
from insight.domain.notes import MAX_EXTERNAL_ID_LEN, PersonRef, also_about
from insight.domain.phones import normalize

SMS_EXTERNAL_ID_PREFIX = "aircall-sms:"
#: epoch values at or above this are milliseconds (1e11 seconds is the year 5138)
_MS_THRESHOLD = 100_000_000_000
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


@dataclass(frozen=True)
class Media:
    name: str
    url: str


@dataclass(frozen=True)
class IncomingMessage:
    """One message as callbridge keeps it: the conversation it belongs to, and what the note shows."""

    message_id: str
    event: str
    direction: str
    line_id: str
    line_name: str | None
    line_digits: str | None
    #: the customer's number: E.164 when readable, else as Aircall wrote it
    number: str
    phone_e164: str | None
    sent_at: datetime
    #: the agent's name or e-mail (outbound), the customer's number (inbound)
    sender: str | None
    agent_email: str | None
    body: str
    media: tuple[Media, ...]

    @property
    def day(self) -> str:
        """The UTC date of the message: the conversation's day."""
        return self.sent_at.astimezone(UTC).strftime("%Y-%m-%d")

    @property
    def dedupe_key(self) -> str:
        return f"{self.line_id}:{self.message_id}"


@dataclass(frozen=True)
class StoredMessage:
    """A message as the store hands it back to compose the note."""

    direction: str
    sent_at: datetime
    sender: str | None
    agent_email: str | None
    body: str
    media: tuple[Media, ...]


def read_message(envelope: Envelope, *, default_region: str) -> IncomingMessage:
    """The message of a `message.*` envelope; `InvalidPayload` names the field it cannot do without."""
    data = envelope.data
    message_id = _id_text(data.get("id"))
    if message_id is None:
        raise InvalidPayload("data.id", "must be the message id (a non-empty string or number)")
    line = data.get("number")
    line_id = _id_text(line.get("id")) if isinstance(line, Mapping) else None
    if line_id is None:
        raise InvalidPayload("data.number.id", "must be the id of the Aircall line the message went through")
    raw = next((value.strip() for key in ("external_number", "raw_digits", "to")
                if isinstance(value := data.get(key), str) and value.strip()), None)
    if raw is None:
        raise InvalidPayload("data.external_number", "must be the customer's number")
    direction = data.get("direction")
    if direction not in ("inbound", "outbound"):
        direction = "inbound" if envelope.event == "message.received" else "outbound"
    e164 = normalize(raw, default_region)
    found_user = data.get("user")
    user: Mapping[str, Any] = found_user if isinstance(found_user, Mapping) else {}
    agent_email = _text(user.get("email"))
    line_name = _text(line.get("name")) if isinstance(line, Mapping) else None
    sender = (_text(user.get("name")) or agent_email or line_name) if direction == "outbound" else raw
    return IncomingMessage(
        message_id=message_id[:150],
        event=envelope.event,
        direction=direction,
        line_id=line_id[:32],
        line_name=line_name,
        line_digits=_text(line.get("digits")) if isinstance(line, Mapping) else None,
        number=(e164 or raw)[:64],
        phone_e164=e164,
        sent_at=message_time(data.get("created_at")) or datetime.fromtimestamp(envelope.timestamp, UTC),
        sender=sender,
        agent_email=agent_email if direction == "outbound" else None,
        body=_text(data.get("body")) or _text(data.get("text")) or "",
        media=media_of(data),
    )


def message_time(value: object) -> datetime | None:
    """An ISO 8601 string, epoch milliseconds or epoch seconds as an aware UTC datetime; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value >= _MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return message_time(int(text))
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return None


def media_of(data: Mapping[str, Any]) -> tuple[Media, ...]:
    """Inbound `media_details: [{file_name, presigned_url}]` and send-response `media_url: [str]` alike."""
    found: list[Media] = []
    details = data.get("media_details")
    for item in details if isinstance(details, list) else []:
        if isinstance(item, Mapping):
            url = _text(item.get("presigned_url")) or _text(item.get("url"))
            if url:
                found.append(Media(_text(item.get("file_name")) or "attachment", url))
    urls = data.get("media_url")
    for url in urls if isinstance(urls, list) else [urls]:
        if isinstance(url, str) and url.strip() and all(media.url != url.strip() for media in found):
            found.append(Media("attachment", url.strip()))
    return tuple(found)


def sms_external_id(line_id: str, number: str, day: str) -> str:
    """`aircall-sms:<line id>:<E.164>:<YYYY-MM-DD>`, its tail hashed when that is over Bullhorn's 50 characters."""
    value = f"{SMS_EXTERNAL_ID_PREFIX}{line_id}:{number}:{day}"
    if len(value) <= MAX_EXTERNAL_ID_LEN:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"{SMS_EXTERNAL_ID_PREFIX}{digest[:MAX_EXTERNAL_ID_LEN - len(SMS_EXTERNAL_ID_PREFIX)]}"


def once_write_at(day: str, settle_s: float) -> datetime | None:
    """Write-once mode: the day's note is written once, when no message of that UTC day can still come.

    That is the end of the day plus the settle time (late webhooks); None for a day callbridge cannot read.
    """
    try:
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return start + timedelta(days=1, seconds=settle_s)


def first_outbound_agent(messages: Sequence[StoredMessage]) -> str | None:
    """The e-mail of the agent who sent the day's first outbound message: the note's author."""
    outbound = [message for message in messages if message.direction == "outbound"]
    first = min(outbound, key=lambda message: message.sent_at, default=None)
    return first.agent_email if first is not None else None


def compose_sms_note(*, line_id: str, line_name: str | None, line_digits: str | None, number: str, day: str,
                     messages: Sequence[StoredMessage], person: PersonRef, author_id: int | None,
                     action: str | None, others: Sequence[PersonRef], max_associated: int,
                     ) -> dict[str, Any]:
    """The `PUT entity/Note` body of a conversation's day; every value from Aircall is escaped.

    Like a call's note it is about `person` and also names `others` (the number's other records)
    unless the number is shared by more than `max_associated`."""
    if action is not None and len(action) > MAX_ACTION_LEN:
        raise ValueError(f"action {action!r} is longer than Bullhorn's {MAX_ACTION_LEN} characters")
    ordered = sorted(messages, key=lambda message: message.sent_at)
    body: dict[str, Any] = {"personReference": {"id": person.id}, **also_about(person, others, max_associated)}
    if author_id is not None:
        body["commentingPerson"] = {"id": author_id}
    if action:
        body["action"] = action
    body["comments"] = sms_comments(line_name=line_name, line_digits=line_digits, number=number, day=day,
                                    messages=ordered)
    if ordered:
        body["dateAdded"] = int(ordered[0].sent_at.timestamp() * 1000)
    body["externalID"] = sms_external_id(line_id, number, day)
    return body


def sms_comments(*, line_name: str | None, line_digits: str | None, number: str, day: str,
                 messages: Sequence[StoredMessage]) -> str:
    headline = "<b>Text messages</b>"
    if line_name:
        headline += f" on {_e(line_name)}"
    if line_digits:
        headline += f" ({_e(line_digits)})"
    count = len(messages)
    parts = [f"<p>{headline}<br>With: {_e(number)}<br>Day: {_e(day)} (UTC), {count} message{'s' * (count != 1)}</p>"]
    for message in messages:
        arrow = "Received" if message.direction == "inbound" else "Sent"
        head = f"<b>{message.sent_at.astimezone(UTC).strftime('%H:%M')} UTC · {arrow}"
        head += f" · {_e(message.sender)}</b>" if message.sender else "</b>"
        lines = [head, _multiline(message.body)] if message.body else [head]
        lines += [f'{_e(media.name)}: <a href="{_e(media.url)}">{_e(media.url)}</a>'
                  for media in message.media if _is_web_link(media.url)]
        parts.append("<p>" + "<br>".join(lines) + "</p>")
    return "\n".join(parts)


def _id_text(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _e(value: str) -> str:
    return html.escape(value.translate(_BIDI_CONTROLS), quote=True)


def _multiline(text: str) -> str:
    return "<br>".join(_e(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _is_web_link(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
