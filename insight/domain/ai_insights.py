"""Aircall's AI insights of a call, read from every documented shape, merged, and written as note sections.

The sources disagree on what an AI event carries (reference/aircall-next.md §1, DESIGN §12), so each
kind is read leniently: sentiment per participant (`participants[].value`) or in `content`; action
items one per event or a list, each a string or an object with `content`; a transcript as
`{utterances}` or a list or plain text. A REST answer is read the same way once its wrapper key (also
disputed: `summary`, `topic`/`topics`, `sentiment`/`sentiments`, `transcription`, or none) is taken
off. An insight "lacks the content" when `data.content` (for sentiment: every participant value) is
absent or empty; the worker then fetches it (`REST_PATHS`).

Contents are normalised into plain JSON (`{"text"}`, `{"items"}`, `{"lines"}`), so a fetched one can
be stored and read back. Several insights of one kind merge: the latest summary, topics, sentiment and
transcript win; action items add up, each text once. A redelivery therefore changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from insight.domain.aircall_events import AI_EVENTS, Envelope, coerce_int
from insight.domain.notes import escape_html as _e
from insight.domain.notes import multiline_html as _multiline

#: `GET /v1/calls/{id}/<path>` answers each kind (reference/aircall-next.md §1)
REST_PATHS: Mapping[str, str] = {
    "summary": "summary",
    "topics": "topics",
    "sentiment": "sentiments",
    "action_items": "action_items",
    "transcript": "transcription",
}
#: the REST answer's wrapper keys each kind is seen under (all unconfirmed, so all accepted)
_WRAPPERS: Mapping[str, tuple[str, ...]] = {
    "summary": ("summary",),
    "topics": ("topics", "topic"),
    "sentiment": ("sentiments", "sentiment"),
    "action_items": ("action_items", "action_item"),
    "transcript": ("transcription", "transcript"),
}
TITLES: Mapping[str, str] = {
    "summary": "Summary", "topics": "Topics", "sentiment": "Sentiment", "action_items": "Action items",
    "transcript": "Transcript",
}
_SPEAKERS = {"internal": "Agent", "external": "Caller", "ai_voice_agent": "AI voice agent"}
_MOODS = {"positive": "Positive", "neutral": "Neutral", "negative": "Negative"}

#: Bullhorn documents Note.comments as a "Large string" with no number (reference/bullhorn.md §3), and
#: no source we found gives one: callbridge keeps a note's comments within this many characters, which
#: holds a 30-minute call's transcript whole. A longer transcript is cut at a line, with a marker.
MAX_COMMENTS_CHARS = 32_000
#: longest summary, topic, sentiment or action item kept, and most list items: only a transcript is long
MAX_TEXT_CHARS = 4_000
MAX_ITEMS = 50


@dataclass(frozen=True)
class Insight:
    """One AI event, read: `content` is None when it lacks the content (then fetch `REST_PATHS[kind]`)."""

    kind: str
    call_id: int
    insight_id: str
    timestamp: int
    content: Mapping[str, Any] | None


@dataclass(frozen=True)
class AiNote:
    """A call's merged AI insights; an empty one leaves the note exactly as without AI."""

    summary: str | None = None
    topics: tuple[str, ...] = ()
    sentiment: tuple[tuple[str, str], ...] = ()
    action_items: tuple[str, ...] = ()
    #: (speaker, text, start seconds or None) per utterance
    transcript: tuple[tuple[str, str, float | None], ...] = ()
    kinds: frozenset[str] = field(default_factory=frozenset)

    def as_json(self) -> dict[str, Any]:
        """The sections for the ops API and the console."""
        return {
            "summary": self.summary,
            "topics": list(self.topics),
            "sentiment": [{"who": who, "value": value} for who, value in self.sentiment],
            "action_items": list(self.action_items),
            "transcript_lines": len(self.transcript),
        }


def is_ai_event(event: str) -> bool:
    return event in AI_EVENTS


def read_insight(envelope: Envelope) -> Insight | None:
    """The insight an AI event carries; None for any other event."""
    kind = AI_EVENTS.get(envelope.event)
    if kind is None or envelope.call_id is None:
        return None
    data = envelope.data
    insight_id = data.get("id")
    return Insight(kind=kind, call_id=envelope.call_id,
                   insight_id=str(insight_id) if insight_id is not None else f"{envelope.event}@{envelope.timestamp}",
                   timestamp=envelope.timestamp, content=normalise(kind, data))


def normalise(kind: str, payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The content of one insight object (webhook `data` or an unwrapped REST answer); None when it lacks it."""
    if kind == "summary":
        text = _text_of(payload.get("content"))
        return {"text": text} if text else None
    if kind == "topics":
        topics = _strings(payload.get("content"), keys=("name", "content", "topic", "label"))
        return {"items": topics} if topics else None
    if kind == "sentiment":
        moods = _sentiments(payload)
        return {"items": [{"who": who, "value": value} for who, value in moods]} if moods else None
    if kind == "action_items":
        items = _strings(payload.get("content"), keys=("content", "text"))
        if not items and isinstance(payload.get("action_items"), list):
            items = _strings(payload["action_items"], keys=("content", "text"))
        return {"items": items} if items else None
    if kind == "transcript":
        lines = _utterances(payload.get("content"))
        return {"lines": lines} if lines else None
    raise ValueError(f"unknown AI insight kind {kind!r}")


def normalise_rest(kind: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """A REST answer of `REST_PATHS[kind]`, whatever its wrapper; None when it holds no content."""
    for key in _WRAPPERS[kind]:
        wrapped = body.get(key)
        if isinstance(wrapped, Mapping):
            return normalise(kind, wrapped)
        if isinstance(wrapped, list):
            if kind == "sentiment" and all(isinstance(item, Mapping) for item in wrapped):
                participants = [p for item in wrapped for p in _participants_of(item)]
                return normalise(kind, {"participants": participants, "content": wrapped})
            return normalise(kind, {"content": wrapped})
    return normalise(kind, body)


def merge(insights: Iterable[Insight], fetched: Mapping[str, Any] | None = None) -> AiNote:
    """The call's AI note from its insights; `fetched` holds the REST contents by `fetch_key`."""
    latest: dict[str, Mapping[str, Any]] = {}
    actions: list[str] = []
    kinds: set[str] = set()
    for insight in sorted(insights, key=lambda i: (i.timestamp, i.insight_id)):
        content = insight.content
        if content is None and fetched is not None:
            stored = fetched.get(fetch_key(insight))
            content = stored if isinstance(stored, Mapping) and stored else None
        if content is None:
            continue
        kinds.add(insight.kind)
        if insight.kind == "action_items":
            actions.extend(str(item) for item in content.get("items") or [])
        else:
            latest[insight.kind] = content
    summary = latest.get("summary", {}).get("text")
    return AiNote(
        summary=_cut(summary) if isinstance(summary, str) else None,
        topics=tuple(_cut(str(t)) for t in _distinct(latest.get("topics", {}).get("items") or []))[:MAX_ITEMS],
        sentiment=tuple((str(s.get("who")), str(s.get("value"))) for s in latest.get("sentiment", {}).get("items") or []
                        if isinstance(s, Mapping))[:MAX_ITEMS],
        action_items=tuple(_cut(item) for item in _distinct(actions))[:MAX_ITEMS],
        transcript=tuple(
            (str(line.get("speaker") or "Unknown"), str(line.get("text") or ""), _float(line.get("start_s")))
            for line in latest.get("transcript", {}).get("lines") or [] if isinstance(line, Mapping)
        ),
        kinds=frozenset(kinds),
    )


def fetch_key(insight: Insight) -> str:
    """Where a fetched content is kept: per kind, and per insight for action items (one per event)."""
    return f"{insight.kind}:{insight.insight_id}"


def note_parts(ai: AiNote, sections: Sequence[str], *, used_chars: int, call_id: int,
               transcript_link: str | None) -> list[str]:
    """The note's AI sections as HTML paragraphs, in `sections` order (CALLBRIDGE_NOTE_AI).

    `used_chars` is the length of the rest of the comments: the transcript gets what is left of
    `MAX_COMMENTS_CHARS`, cut at an utterance, and a marker says how much is shown and where the rest is.
    """
    parts: list[str] = []
    for section in sections:
        if section == "transcript":
            continue
        part = _section(ai, section)
        if part:
            parts.append(part)
    if "transcript" in sections and ai.transcript:
        # one character per "\n" that joins a part to the comments
        room = MAX_COMMENTS_CHARS - used_chars - sum(len(part) + 1 for part in parts) - 1
        parts.append(fit_transcript(ai.transcript, room, call_id=call_id, link=transcript_link))
    return parts


def fit_transcript(lines: Sequence[tuple[str, str, float | None]], room: int, *, call_id: int,
                   link: str | None) -> str:
    """The transcript paragraph in at most `room` characters: whole lines, then a marker if any was left out."""
    head = f"<p><b>{TITLES['transcript']}</b>"
    rendered = [f"<br>{_stamp(start)}{_e(speaker)}: {_e(text)}" for speaker, text, start in lines]
    whole = head + "".join(rendered) + "</p>"
    if len(whole) <= room:
        return whole
    where = (f'<a href="{_e(link)}">{_e(link)}</a>' if link else f"Aircall (call #{call_id})")
    kept: list[str] = []
    used = len(head) + len("</p>")
    for line in rendered:
        marker = _marker(len(kept) + 1, len(lines), where)
        if used + len(line) + len(marker) > room:
            break
        kept.append(line)
        used += len(line)
    marker = _marker(len(kept), len(lines), where)
    if used + len(marker) > room:
        return ""  # not even the marker fits: the section is left out rather than the limit broken
    return head + "".join(kept) + marker + "</p>"


def _marker(shown: int, total: int, where: str) -> str:
    return f"<br><i>… transcript shortened to fit the note: {shown} of {total} lines shown; the full transcript " \
           f"is in {where}</i>"


def _section(ai: AiNote, section: str) -> str | None:
    title = f"<b>{TITLES[section]}</b>"
    if section == "summary" and ai.summary:
        return f"<p>{title}<br>{_multiline(ai.summary)}</p>"
    items: Sequence[str] = ()
    if section == "topics":
        items = ai.topics
    elif section == "sentiment":
        items = [f"{who}: {_MOODS.get(value.lower(), value)}" for who, value in ai.sentiment]
    elif section == "action_items":
        items = ai.action_items
    if not items:
        return None
    return f"<p>{title}</p><ul>" + "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul>"


def _sentiments(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    participants = [p for p in _participants_of(payload) if _text_of(p.get("value"))]
    externals = [p for p in participants if p.get("participant_type", p.get("type")) == "external"]
    moods = []
    for participant in participants:
        kind = str(participant.get("participant_type") or participant.get("type") or "external")
        who = _SPEAKERS.get(kind, kind.replace("_", " ").capitalize())
        number = _text_of(participant.get("phone_number"))
        if kind == "external" and len(externals) > 1 and number:
            who = f"{who} {number}"
        moods.append((who, _text_of(participant.get("value")) or ""))
    if moods:
        return moods
    content = payload.get("content")
    if isinstance(content, str) and content.strip():
        return [("Caller", content.strip())]
    if isinstance(content, Mapping):
        inner = _sentiments(content) if "participants" in content else []
        value = _text_of(content.get("value") or content.get("sentiment"))
        return inner or ([("Caller", value)] if value else [])
    if isinstance(content, list):
        return [mood for item in content if isinstance(item, Mapping) for mood in _sentiments(
            {"participants": [item]} if "value" in item else item)]
    return []


def _participants_of(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    participants = payload.get("participants")
    return [p for p in participants if isinstance(p, Mapping)] if isinstance(participants, list) else []


def _utterances(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"speaker": "Transcript", "text": content.strip(), "start_s": None}] if content.strip() else []
    if isinstance(content, Mapping):
        content = content.get("utterances")
    if not isinstance(content, list):
        return []
    lines = []
    for utterance in content:
        if not isinstance(utterance, Mapping):
            continue
        text = _text_of(utterance.get("text") or utterance.get("content"))
        if not text:
            continue
        kind = str(utterance.get("participant_type") or "")
        lines.append({"speaker": _SPEAKERS.get(kind, "Unknown"), "text": text,
                      "start_s": _float(utterance.get("start_time", utterance.get("timestamp")))})
    return lines


def _strings(value: Any, *, keys: tuple[str, ...]) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, Mapping):
        for key in keys:
            text = _text_of(value.get(key))
            if text:
                return [text]
        return []
    if isinstance(value, list):
        return [text for item in value for text in _strings(item, keys=keys)]
    return []


def _text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, Mapping):
        return _text_of(value.get("content"))
    if isinstance(value, list):
        texts = [text for text in map(_text_of, value) if text]
        return " ".join(texts) or None
    return None


def _distinct(items: Iterable[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(str(item), None)
    return list(seen)


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    whole = coerce_int(value)
    return float(whole) if whole is not None else None


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def _stamp(start: float | None) -> str:
    if start is None:
        return ""
    minutes, seconds = divmod(int(start), 60)
    return f"[{minutes:02d}:{seconds:02d}] "
