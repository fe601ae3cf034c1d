"""Write-once mode (CALLBRIDGE_NOTE_MODE=once, DESIGN §12): when the one write is due, and what came later.

For API users that may create notes but not edit them, the note is written once, the settle time after
`call.ended` was received and, when the note shows an AI summary, once the summary is in or at most
`CALLBRIDGE_NOTE_AI_WAIT_S` later. What arrives after that write is never written, only listed on the
call as "late", so nothing is lost silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from insight.domain.ai_insights import TITLES, read_insight
from insight.domain.aircall_events import AI_EVENTS, Envelope
from shared.timefmt import iso_utc

#: while the one write waits for the AI summary, the worker looks again this often (the intake keeps a
#: call's due time when an event arrives, so the summary's arrival does not wake the call by itself)
SUMMARY_POLL_S = 15.0
#: the call events whose data the note shows: arriving after the one write, they are late
NOTE_EVENTS = frozenset({"call.tagged", "call.untagged", "call.commented", "call.voicemail_left",
                         "call.comm_assets_generated"})
SUMMARY_CHARS = 120
#: a late event's whole list is bounded: a call does not collect events without end, but be sure
MAX_LATE = 50


def once_due_at(*, ended_received_at: datetime, settle_s: float, ai_wait_s: float, wants_summary: bool,
                has_summary: bool, now: datetime) -> datetime:
    """When the one write of a call is due (it may be now or past)."""
    settled = ended_received_at + timedelta(seconds=settle_s)
    if not wants_summary or has_summary:
        return settled
    deadline = settled + timedelta(seconds=ai_wait_s)
    return min(deadline, max(settled, now + timedelta(seconds=SUMMARY_POLL_S)))


def late_entries(events: Iterable[tuple[Envelope, datetime]], sections: Iterable[str]) -> list[dict[str, Any]]:
    """`{"event", "received_at", "summary"}` per event the note would show, oldest first."""
    shown = set(sections)
    late = []
    for envelope, received_at in sorted(events, key=lambda pair: pair[1]):
        summary = _summary(envelope, shown)
        if summary is not None:
            late.append({"event": envelope.event, "received_at": iso_utc(received_at), "summary": summary})
    return late[-MAX_LATE:]


def _summary(envelope: Envelope, sections: set[str]) -> str | None:
    data = envelope.data
    if envelope.event in AI_EVENTS:
        insight = read_insight(envelope)
        if insight is None or insight.kind not in sections:
            return None
        return f"{TITLES[insight.kind]}: {_gist(insight.content)}"
    if envelope.event not in NOTE_EVENTS:
        return None
    if envelope.event in ("call.tagged", "call.untagged"):
        names = [str(tag.get("name")) for tag in data.get("tags") or [] if isinstance(tag, Mapping)]
        return f"Tags now: {', '.join(names) or 'none'}"
    if envelope.event == "call.commented":
        comments = [c for c in data.get("comments") or [] if isinstance(c, Mapping) and isinstance(c.get("content"),
                                                                                                     str)]
        newest = max(comments, key=lambda c: c.get("posted_at") or 0, default=None)
        return f"Comment: {_cut(str(newest['content']))}" if newest else "A comment was added"
    if envelope.event == "call.voicemail_left":
        return "Voicemail left"
    return "Recording and call assets ready"


def _gist(content: Mapping[str, Any] | None) -> str:
    if content is None:
        return "(arrived without its content)"
    if isinstance(content.get("text"), str):
        return _cut(content["text"])
    items = content.get("items") or content.get("lines") or []
    texts = [item.get("text") or f"{item.get('who')}: {item.get('value')}" if isinstance(item, Mapping)
             else str(item) for item in items]
    return _cut("; ".join(str(text) for text in texts))


def _cut(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"
