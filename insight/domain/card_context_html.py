"""The context section of the HTML card (DESIGN §13): a colleague on the line, last contact, pipeline.

Reads the card JSON's `"context"`; every value is escaped. Its CSS joins the card's one hashed style block.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from insight.domain.card_context import ago

CONTEXT_CSS = """
.ctx{border-top:1px solid #eceef2;margin-top:16px;padding-top:10px}
.ctx h2{font-size:13px;margin:0 0 6px;color:#5b6475;text-transform:uppercase;letter-spacing:.04em}
.warn{background:#fff4e5;color:#8a4b00;border:1px solid #f5c98b;border-radius:6px;padding:6px 10px;margin:0 0 10px}
.ctx ul{margin:0;padding-left:18px}.ctx li{margin:2px 0;overflow-wrap:anywhere}
.muted{color:#8a92a3}
""".strip()


def context_html(context: Any, now: datetime) -> str:
    if not isinstance(context, Mapping):
        return ""
    parts: list[str] = []
    calls = [call for call in context.get("on_call_now") or [] if isinstance(call, Mapping)]
    if calls:
        who = ", ".join(f"{_e(str(call.get('agent') or 'An agent'))} (since {_e(_since(call.get('since'), now))})"
                        for call in calls)
        parts.append(f'<p class="warn">On a call with this number now: {who}</p>')
    parts.append(_last_contact_html(context.get("last_contact"), now))
    parts.append(_pipeline_html(context.get("pipeline"), context))
    if context.get("complete") is False:
        parts.append('<p class="muted">More context is on its way: this card refreshes itself.</p>')
    return f'<section class="ctx">{"".join(parts)}</section>'


def _last_contact_html(contact: Any, now: datetime) -> str:
    if not isinstance(contact, Mapping):
        return "<h2>Last contact</h2><p class=\"muted\">No calls or notes with this person yet.</p>"
    when = _since(contact.get("at"), now)
    kind = {"call": "Call", "note": "Note", "sms": "Messages"}.get(str(contact.get("kind")), "Contact")
    direction = contact.get("direction")
    details = [f"{kind}{' (' + str(direction) + ')' if direction else ''}", when]
    for key in ("by", "action"):
        if contact.get(key):
            details.append(str(contact[key]))
    return f"<h2>Last contact</h2><p>{_e(' · '.join(details))}</p>"


def _pipeline_html(pipeline: Any, context: Mapping[str, Any]) -> str:
    if isinstance(pipeline, Mapping) and "open_jobs" in pipeline:
        jobs = pipeline.get("open_jobs")
        plural = "s" if jobs != 1 else ""
        text = "No open jobs at this company" if not jobs else f"{jobs} open job{plural} at this company"
        return f"<h2>Open jobs</h2><p>{_e(text)}</p>"
    if isinstance(pipeline, Mapping):
        items = [item for item in pipeline.get("items") or [] if isinstance(item, Mapping)]
        if not items:
            return '<h2>Pipeline</h2><p class="muted">Nothing active.</p>'
        rows = []
        for item in items:
            title = str(item.get("title") or f"Job #{item.get('job_id')}")
            extra = " · ".join(str(part) for part in (item.get("company"), item.get("status")) if part)
            rows.append(f"<li>{_e(title)}{' · ' + _e(extra) if extra else ''}</li>")
        count = pipeline.get("count")
        more = count - len(items) if isinstance(count, int) else 0
        if more > 0:
            rows.append(f"<li>and {more} more active</li>")
        return f"<h2>Pipeline ({_e(str(count))} active)</h2><ul>{''.join(rows)}</ul>"
    unavailable = [str(reason) for reason in context.get("unavailable") or [] if str(reason).startswith("pipeline")]
    if unavailable:
        return '<h2>Pipeline</h2><p class="muted">Not available: Bullhorn refused to show it.</p>'
    return ""


def _since(value: Any, now: datetime) -> str:
    if not isinstance(value, str):
        return "unknown time"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return ago(moment, now)


def _e(value: str) -> str:
    return html.escape(value, quote=True)
