"""`/ats/BullhornSTAFFING/OpenWindow.cfm`: a plain record page, so the demo's Insight Card links open."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from sandbox.bullhorn_errors import BullhornError

if TYPE_CHECKING:
    from sandbox.bullhorn import BullhornSandbox

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title} - Bullhorn (sandbox)</title>
<style>body{{font:14px sans-serif;margin:2em}}th{{text-align:left;padding-right:1em;color:#555}}</style>
</head><body><h1>{title}</h1><p>{entity} #{id} &middot; {view}</p><table>{rows}</table>{notes}</body></html>"""
_SHOWN = {"Note": ("action", "comments", "dateAdded", "minutesSpent", "externalID", "isDeleted")}


def _text(value: Any) -> str:
    if isinstance(value, dict):
        name = value.get("name") or " ".join(str(value.get(k, "")) for k in ("firstName", "lastName")).strip()
        return escape(str(name or value.get("id", "")))
    return escape("" if value is None else str(value))


def _title(entity: str, record: dict[str, Any]) -> str:
    name = record.get("name") or " ".join(str(record.get(k) or "") for k in ("firstName", "lastName")).strip()
    return escape(str(name or f"{entity} {record.get('id')}"))


async def open_window(request: Request, sandbox: BullhornSandbox) -> Response:
    params = {key.lower(): value for key, value in request.query_params.items()}
    entity, raw_id = params.get("entity", ""), params.get("id", "")
    try:
        record = sandbox.table(entity).get(int(raw_id))
    except (BullhornError, ValueError):
        record = None
    if record is None:
        return HTMLResponse(f"<!doctype html><p>No {escape(entity)} with id {escape(raw_id)}.</p>", status_code=404)
    shown = _SHOWN.get(entity) or [key for key, value in record.items() if value not in (None, "", {})]
    rows = "".join(f"<tr><th>{escape(key)}</th><td>{_text(record.get(key))}</td></tr>" for key in shown)
    notes = ""
    if entity in ("Candidate", "ClientContact"):
        items = "".join(f"<li>{_text(note.get('action'))}: {_text(note.get('comments'))}</li>"
                        for note in sandbox.person_notes(record["id"]))
        notes = f"<h2>Notes</h2><ul>{items}</ul>" if items else ""
    return HTMLResponse(_PAGE.format(title=_title(entity, record), entity=escape(entity), id=escape(raw_id),
                                     view=escape(params.get("view", "Overview")), rows=rows, notes=notes),
                        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
