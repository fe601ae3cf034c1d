"""The embeddable HTML Insight Card: one self-contained page, every value escaped, no external assets."""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from insight.domain.card_context_html import CONTEXT_CSS, context_html
from insight.domain.phones import display

__all__ = ["ENTITY_LABELS", "FIELD_LABELS", "content_security_policy", "render_card_html"]

_CSS = """
:root{color-scheme:light;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
body{margin:0;padding:12px;background:#f4f5f7;color:#1d2330}
.card{max-width:420px;margin:0 auto;background:#fff;border:1px solid #dde1e8;border-radius:10px;
padding:16px 18px;box-shadow:0 1px 2px rgba(20,30,50,.06)}
.top{display:flex;justify-content:space-between;align-items:center;gap:8px;color:#5b6475;font-size:13px}
.badge{background:#e7f0ff;color:#1a4fb5;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:600}
.badge.none{background:#f1f2f4;color:#5b6475}
h1{font-size:20px;margin:10px 0 12px;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0 0 14px}
dt{color:#5b6475}dd{margin:0;overflow-wrap:anywhere}
a{color:#1a4fb5}
.open{display:inline-block;background:#1a4fb5;color:#fff;text-decoration:none;border-radius:6px;
padding:7px 14px;font-weight:600}
.more{border-top:1px solid #eceef2;margin-top:16px;padding-top:10px}
.more h2{font-size:13px;margin:0 0 6px;color:#5b6475;text-transform:uppercase;letter-spacing:.04em}
.more ul{margin:0;padding-left:18px}.more li{margin:2px 0;overflow-wrap:anywhere}
.hint{color:#5b6475;margin:0}
footer{margin-top:14px;color:#8a92a3;font-size:12px}
""".strip() + "\n" + CONTEXT_CSS

# The page carries exactly one <style> block and nothing else that loads, so the policy allows
# that block by hash and nothing more (no 'unsafe-inline', no images, no scripts). frame-ancestors
# names the tools the agency embeds the card in (CALLBRIDGE_CARD_FRAME_ANCESTORS: by default Aircall's
# and Bullhorn's web apps), so no other site can frame a leaked link.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()


def content_security_policy(frame_ancestors: str) -> str:
    return (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )

#: how agents call the entities and phone fields (shared with the Aircall card lines)
ENTITY_LABELS: dict[str, str] = {"Candidate": "Candidate", "ClientContact": "Contact"}
FIELD_LABELS: dict[str, str] = {
    "phone": "phone",
    "mobile": "mobile",
    "workPhone": "work phone",
    "phone2": "phone 2",
    "phone3": "phone 3",
}


def render_card_html(card_json: Mapping[str, Any], *, refresh_s: int, now: datetime | None = None) -> str:
    """The card JSON (`insight.domain.cards.build_card_json`) as a page that refreshes itself every `refresh_s`.

    `now` (default: the clock) is what the context's "2 h ago" counts from."""
    matches = [match for match in _list(card_json.get("matches")) if isinstance(match, Mapping)]
    phone = _phone(card_json.get("phone"))
    if matches:
        title = _str(matches[0].get("name")) or "Bullhorn record"
        body = _match_html(matches[0], phone) + _more_html(matches[1:], _count(card_json.get("more")))
    elif phone is None:
        title = "No Bullhorn match: anonymous caller"
        body = _empty_html(title, "The number is withheld, so there is nobody to look up.")
    else:
        title = f"No Bullhorn match for {phone}"
        body = _empty_html(title, "No live Candidate or Contact has this number.", phone)
    body += context_html(card_json.get("context"), now or datetime.now(UTC))
    refresh = f'<meta http-equiv="refresh" content="{int(refresh_s)}">' if int(refresh_s) > 0 else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer">{refresh}'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f'<body><main class="card">{body}{_footer_html(card_json)}</main></body></html>'
    )


def _match_html(match: Mapping[str, Any], phone: str | None) -> str:
    entity = _str(match.get("entity")) or ""
    rows = [
        ("Owner", _str(match.get("owner"))),
        ("Company", _str(match.get("company"))),
        ("Status", _str(match.get("status"))),
        ("Matched on", _field_label(_str(match.get("phone_field")))),
    ]
    details = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in rows if value)
    link = _http_url(match.get("link"))
    button = (
        f'<a class="open" href="{_e(link)}" target="_blank" rel="noopener noreferrer">Open in Bullhorn</a>'
        if link
        else ""
    )
    return (
        f'<div class="top"><span>{_e(phone or "")}</span>'
        f'<span class="badge">{_e(ENTITY_LABELS.get(entity, entity) or "Record")}</span></div>'
        f"<h1>{_e(_str(match.get('name')) or 'Bullhorn record')}</h1>"
        f"<dl>{details}</dl>{button}"
    )


def _more_html(others: Sequence[Mapping[str, Any]], unlisted: int) -> str:
    total = len(others) + unlisted
    if total <= 0:
        return ""
    items = []
    for match in others:
        name = _e(_str(match.get("name")) or "Bullhorn record")
        link = _http_url(match.get("link"))
        label = f'<a href="{_e(link)}" target="_blank" rel="noopener noreferrer">{name}</a>' if link else name
        entity = _str(match.get("entity")) or ""
        extra = [ENTITY_LABELS.get(entity, entity), _str(match.get("company"))]
        items.append(f"<li>{label}{''.join(f' · {_e(part)}' for part in extra if part)}</li>")
    if unlisted:
        items.append(f"<li>and {unlisted} more not listed</li>")
    heading = "1 more match" if total == 1 else f"{total} more matches"
    return f'<section class="more"><h2>{heading}</h2><ul>{"".join(items)}</ul></section>'


def _empty_html(title: str, hint: str, phone: str | None = None) -> str:
    return (
        f'<div class="top"><span>{_e(phone or "")}</span><span class="badge none">No match</span></div>'
        f'<h1>{_e(title)}</h1><p class="hint">{_e(hint)}</p>'
    )


def _footer_html(card_json: Mapping[str, Any]) -> str:
    parts = []
    looked_up_at = _str(card_json.get("looked_up_at"))
    if looked_up_at:
        parts.append(f"Looked up {_when(looked_up_at)}")
    if card_json.get("cached") is True:
        parts.append("from cache")
    return f"<footer>{_e(' · '.join(parts))}</footer>" if parts else ""


def _when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%d %b %Y, %H:%M UTC")


def _field_label(field: str | None) -> str | None:
    label = FIELD_LABELS.get(field or "", field)
    return label[:1].upper() + label[1:] if label else None


def _phone(value: Any) -> str | None:
    text = _str(value)
    if text is None or text.lower() == "anonymous":
        return None
    return display(text) if text.startswith("+") else text


def _http_url(value: Any) -> str | None:
    # Only absolute http(s) links become links: `javascript:`, `data:` and friends stay text.
    text = _str(value)
    if text is None or any(ord(char) < 33 for char in text):
        return None
    parts = urlsplit(text)
    return text if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    text = str(value).strip()
    return text or None


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
