"""The Insight Card in its three forms: JSON for the API (DESIGN §3), Aircall card lines, embeddable HTML.

Pure functions over `Match` values; the HTML lives in `insight.domain.card_html` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from insight.domain.card_html import ENTITY_LABELS, FIELD_LABELS, content_security_policy, render_card_html
from insight.domain.matching import Match
from insight.domain.phones import display
from shared.timefmt import iso_utc

__all__ = [
    "ENTITY_LABELS",
    "FIELD_LABELS",
    "MAX_SHOWN",
    "SHORT_TEXT_MAX",
    "TITLE_MAX",
    "build_aircall_card",
    "build_card_json",
    "content_security_policy",
    "record_link",
    "render_card_html",
]

#: what the card JSON shows of a match; its ranking facts (recency, primary field) stay inside
_CARD_FIELDS = ("entity", "id", "name", "owner", "company", "status", "phone_field")
#: matches listed in the card JSON; the rest are only counted in `more`
MAX_SHOWN = 3
# Aircall documents no length limits and cuts long lines itself; one production integration
# truncates shortText at 25-28 characters, so we cut earlier ourselves and say so with an ellipsis
# rather than let the agent read a silently clipped name.
SHORT_TEXT_MAX = 25
# The title is the line that must carry a whole name, or "No Bullhorn match for " and the longest
# international number (20 characters) without losing its last digits.
TITLE_MAX = 44


def record_link(ui_base_url: str, entity: str, record_id: int) -> str:
    """Bullhorn's OpenWindow link to a record's overview (reference/bullhorn.md §6)."""
    query = urlencode({"Entity": entity, "id": record_id, "view": "Overview"})
    return f"{ui_base_url.rstrip('/')}/BullhornSTAFFING/OpenWindow.cfm?{query}"


def build_card_json(
    phone_e164: str | None,
    matches: Sequence[Match],
    *,
    call_id: int | None,
    ui_base_url: str,
    cached: bool,
    looked_up_at: datetime,
    card_url: str | None,
    max_shown: int = MAX_SHOWN,
) -> dict[str, Any]:
    """The card JSON of DESIGN §3; `call_id` and `card_url` only for a call's card."""
    shown = list(matches[: max(1, max_shown)])
    card: dict[str, Any] = {"phone": phone_e164}
    if call_id is not None:
        card["call_id"] = call_id
    card["matches"] = [_card_match(match, ui_base_url) for match in shown]
    card["more"] = len(matches) - len(shown)
    card["cached"] = cached
    card["looked_up_at"] = iso_utc(looked_up_at)
    if card_url is not None:
        card["card_url"] = card_url
    return card


def build_aircall_card(
    phone_display: str | None, matches: Sequence[Match], *, ui_base_url: str,
    context: Sequence[tuple[str, str]] = (),
) -> list[dict[str, str]]:
    """`contents` for `POST /v1/calls/{id}/insight_cards`: title and shortText lines, best match first.

    `phone_display` may be E.164 (shown in international form) or any text; None, empty or
    "anonymous" gives the anonymous card.
    """
    number = _display_number(phone_display)
    # the card's context in short (DESIGN §13, `insight.domain.card_context.context_lines`)
    extra = [_short(label, text) for label, text in context]
    if not matches:
        if number is None:
            return [_title("No Bullhorn match: anonymous caller"), _short("Number", "withheld by the caller")]
        return [_title(f"No Bullhorn match for {number}"), *extra]
    best = matches[0]
    link = _safe_link(record_link(ui_base_url, best.entity, best.id))
    lines = [_title(best.name, link)]
    for label, value in (("Owner", best.owner), ("Company", best.company), ("Status", best.status)):
        if value:
            lines.append(_short(label, value))
    entity = ENTITY_LABELS.get(best.entity, best.entity)
    lines.append(_short("Record", f"{entity} · {FIELD_LABELS.get(best.phone_field, best.phone_field)}", link))
    others = matches[1:]
    if others:
        label = "1 more match" if len(others) == 1 else f"{len(others)} more matches"
        lines.append(_short(label, ", ".join(match.name for match in others)))
    return [*lines, *extra]


def _card_match(match: Match, ui_base_url: str) -> dict[str, Any]:
    """A match as the card JSON lists it (DESIGN §3): the match without its ranking facts, and a link."""
    stored = match.to_json()
    link = record_link(ui_base_url, match.entity, match.id)
    return {**{name: stored[name] for name in _CARD_FIELDS}, "link": link}


def _display_number(phone: str | None) -> str | None:
    text = (phone or "").strip()
    if not text or text.lower() == "anonymous":
        return None
    return display(text) if text.startswith("+") else text


def _safe_link(url: str) -> str | None:
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _title(text: str, link: str | None = None) -> dict[str, str]:
    line = {"type": "title", "text": _truncate(text, TITLE_MAX)}
    if link:
        line["link"] = link
    return line


def _short(label: str, text: str, link: str | None = None) -> dict[str, str]:
    line = {"type": "shortText", "label": _truncate(label, SHORT_TEXT_MAX), "text": _truncate(text, SHORT_TEXT_MAX)}
    if link:
        line["link"] = link
    return line
