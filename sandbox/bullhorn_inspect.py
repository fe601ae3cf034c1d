"""`/_sandbox/*`: not Bullhorn. What tests and the demo use to look inside the fake and steer it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.bullhorn_events import write_record
from sandbox.bullhorn_search import request_body
from sandbox.faults import ScriptedFault
from sandbox.readings import READINGS, is_reading_value

if TYPE_CHECKING:
    from sandbox.bullhorn import BullhornSandbox

RECORD_ENTITIES = ("Candidate", "ClientContact", "ClientCorporation", "CorporateUser")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _optional_number(value: Any) -> bool:
    return value is None or (_number(value) and value > 0)


def _rates(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(key, str) and _number(rate) and rate <= 1 for key, rate in value.items())


_SETTABLE: dict[str, Callable[[Any], bool]] = {
    "latency_ms": _number, "session_lifetime_s": _number, "rate_limit_per_s": _optional_number,
    "error_rates": _rates, "timeout_rates": _rates, "lost_answer_rates": _rates, "timeout_hold_s": _number,
    "error_status": lambda value: isinstance(value, int) and 400 <= value <= 599,
    "note_edit_allowed": lambda value: isinstance(value, bool),
    "event_subscriptions_allowed": lambda value: isinstance(value, bool),
    "case_insensitive_where": lambda value: isinstance(value, bool),
    "subscription_ttl_s": _number,
    "pipeline_refused": lambda value: isinstance(value, bool),
    "rest_host": lambda value: value is None or (isinstance(value, str) and bool(value)),
    **{item.field: partial(is_reading_value, item.field) for item in READINGS if item.fake == "bullhorn"},
}


def _bad_request(detail: str) -> Response:
    return JSONResponse({"error": "bad_request", "detail": detail}, status_code=400)


def _config_json(sandbox: BullhornSandbox) -> dict[str, Any]:
    hidden = {"clock", "password", "client_secret"}
    return {f.name: getattr(sandbox.config, f.name) for f in dataclasses.fields(sandbox.config)
            if f.name not in hidden}


async def get_config(request: Request, sandbox: BullhornSandbox) -> Response:
    return JSONResponse(_config_json(sandbox))


async def patch_config(request: Request, sandbox: BullhornSandbox) -> Response:
    body = await request_body(request)
    unknown = sorted(set(body) - set(_SETTABLE))
    if unknown:
        return _bad_request(f"not settable: {', '.join(unknown)}; settable: {', '.join(sorted(_SETTABLE))}")
    invalid = sorted(key for key, value in body.items() if not _SETTABLE[key](value))
    if invalid:
        return _bad_request(f"invalid value for: {', '.join(invalid)}")
    for key, value in body.items():
        setattr(sandbox.config, key, value)
    return JSONResponse(_config_json(sandbox))


async def post_faults(request: Request, sandbox: BullhornSandbox) -> Response:
    try:
        raw = await request.json()
    except ValueError:
        return _bad_request("the body must be a fault object or a list of them")
    items = raw if isinstance(raw, list) else [raw]
    faults: list[ScriptedFault] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("endpoint"), str):
            return _bad_request("each fault needs an 'endpoint' pattern such as \"PUT entity/Note\"")
        try:
            fault = ScriptedFault(endpoint=item["endpoint"], status=int(item.get("status", 500)),
                                  remaining=int(item.get("count", 1)), lost_answer=bool(item.get("lost_answer")),
                                  hold_s=float(item.get("hold_s", 0.0)))
        except (TypeError, ValueError):
            return _bad_request("status and count must be integers, hold_s a number")
        if set(item) - {"endpoint", "status", "count", "lost_answer", "hold_s"}:
            return _bad_request("fault keys are endpoint, status, count, lost_answer, hold_s")
        faults.append(fault)
    for fault in faults:
        sandbox.faults.script(fault)
    return await get_faults(request, sandbox)


async def get_faults(request: Request, sandbox: BullhornSandbox) -> Response:
    return JSONResponse({"faults": [fault.as_json() for fault in sandbox.faults.scripted]})


async def delete_faults(request: Request, sandbox: BullhornSandbox) -> Response:
    sandbox.faults.scripted.clear()
    return await get_faults(request, sandbox)


async def get_notes(request: Request, sandbox: BullhornSandbox) -> Response:
    notes = []
    for note in sandbox.notes.values():
        links = [{**link.as_record(), "entity": (sandbox.person(link.target_id) or ("?",))[0]}
                 for link in sandbox.store.links_of_note(note["id"])]
        notes.append({**note, "links": links})
    return JSONResponse({"notes": notes})


async def get_requests(request: Request, sandbox: BullhornSandbox) -> Response:
    faults = sandbox.faults
    return JSONResponse({
        "total": sum(faults.requests.values()), "endpoints": dict(sorted(faults.requests.items())),
        "logins": sandbox.auth.logins, "active_sessions": len(sandbox.auth.sessions),
        "rate_limited": faults.rate_limited, "faults_injected": dict(faults.faults_injected),
    })


async def put_record(request: Request, sandbox: BullhornSandbox) -> Response:
    """Create or replace a record, as a recruiter would in the UI (subscribers get the event)."""
    return await _write(request, sandbox, replace=True)


async def patch_record(request: Request, sandbox: BullhornSandbox) -> Response:
    """Change some fields of a record."""
    if request.path_params["id"] not in sandbox.table(request.path_params["entity"]):
        return JSONResponse({"error": "not_found", "detail": "no such record"}, status_code=404)
    return await _write(request, sandbox, replace=False)


async def delete_record(request: Request, sandbox: BullhornSandbox) -> Response:
    """Soft delete, as Bullhorn's UI does: the record stays, with isDeleted=true."""
    entity, record_id = request.path_params["entity"], request.path_params["id"]
    if entity not in RECORD_ENTITIES or record_id not in sandbox.table(entity):
        return JSONResponse({"error": "not_found", "detail": "no such record"}, status_code=404)
    return JSONResponse({"data": write_record(sandbox, entity, record_id, {"isDeleted": True}, replace=False)})


async def _write(request: Request, sandbox: BullhornSandbox, *, replace: bool) -> Response:
    entity = request.path_params["entity"]
    if entity not in RECORD_ENTITIES:
        return _bad_request(f"records can be written for {', '.join(RECORD_ENTITIES)}")
    body = await request_body(request)
    return JSONResponse({"data": write_record(sandbox, entity, request.path_params["id"], body, replace=replace)})


async def expire_sessions(request: Request, sandbox: BullhornSandbox) -> Response:
    now = sandbox.config.clock()
    for session in sandbox.auth.sessions.values():
        session.expires_at = min(session.expires_at, now)
    return JSONResponse({"expired": len(sandbox.auth.sessions)})


async def reset(request: Request, sandbox: BullhornSandbox) -> Response:
    sandbox.reset()
    return JSONResponse({"status": "reset"})


def inspect_routes(sandbox: BullhornSandbox) -> list[BaseRoute]:
    from sandbox.bullhorn import bind

    def route(path: str, handler: Any, method: str) -> Route:
        return Route(path, bind(sandbox, handler, session=False), methods=[method])

    return [
        route("/notes", get_notes, "GET"), route("/requests", get_requests, "GET"),
        route("/config", get_config, "GET"), route("/config", patch_config, "PATCH"),
        route("/faults", get_faults, "GET"), route("/faults", post_faults, "POST"),
        route("/faults", delete_faults, "DELETE"),
        route("/records/{entity}/{id:int}", put_record, "PUT"),
        route("/records/{entity}/{id:int}", patch_record, "PATCH"),
        route("/records/{entity}/{id:int}", delete_record, "DELETE"),
        route("/expire-sessions", expire_sessions, "POST"), route("/reset", reset, "POST"),
    ]
