"""Creating a Bullhorn record for an unknown caller (DESIGN §12), and the company search its form needs.

`POST /api/calls/{call_id}/create-record` creates the Candidate or ClientContact with the call's
number, puts it in the phone index at once, gives it to the call (and to the unmatched SMS
conversations with the same number) as their match, and queues them, so the worker writes their
notes. `GET /api/companies?q=` finds ClientCorporations by name for a contact's company.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from insight.domain.aircall_events import NotJSON, load_json
from insight.domain.budget import Purpose
from insight.domain.index_records import index_record
from insight.domain.matching import SEARCH_FIELDS, verify_and_rank
from insight.domain.new_records import BadRecordRequest, NewRecord, company_query, read_request, record_body
from insight.domain.phones import normalize
from insight.store import conversations, ops
from insight.store.call_matches import adopt_match
from insight.store.phone_index import PhoneIndex
from insight.store.tables import utcnow
from insight.upstream.bullhorn.users import read_user_directory
from insight.upstream.errors import UpstreamRejected, UpstreamUnavailable
from insight.upstream.meter import metered
from insight.web.api_auth import require_api_key
from insight.web.api_errors import ApiError
from insight.web.call_id import CALL_ID
from insight.web.ops_json import primary_match
from insight.web.services import Services
from shared.logs import mask_phone
from shared.timefmt import iso_utc

log = logging.getLogger("callbridge.web")

COMPANY_RESULTS = 20
#: the longest company search text taken
MAX_COMPANY_QUERY = 100


async def create_record(request: Request) -> JSONResponse:
    services = _authorised(request)
    call_id: int = request.path_params["call_id"]
    engine = services.store.engine
    row = await anyio.to_thread.run_sync(lambda: ops.get_call(engine, call_id))
    if row is None:
        raise ApiError(404, f"no call {call_id} has been received from Aircall")
    try:
        wanted = read_request(load_json(await request.body()))
    except NotJSON as problem:
        raise ApiError(400, str(problem), error="not_json") from None
    except BadRecordRequest as problem:
        raise ApiError(422, str(problem)) from None
    if row.get("note_id") is not None or primary_match(row) is not None:
        raise ApiError(409, f"call {call_id} already has a Bullhorn match; its note is written on that record",
                       error="already_matched")
    region = services.settings.default_region
    raw = row.get("raw_digits")
    e164 = row.get("phone_e164") or (normalize(raw, region) if raw and raw != "anonymous" else None)
    if e164 is None:
        raise ApiError(409, f"call {call_id} has no phone number a record could hold (withheld or unreadable)",
                       error="no_number")
    record = await _create(services, wanted, e164, row.get("agent_email"))
    match_json = await _index_and_match(services, wanted, record, e164)
    if not await anyio.to_thread.run_sync(lambda: adopt_match(engine, call_id, match_json)):
        raise ApiError(409, f"{wanted.entity} {record['id']} was created, but call {call_id} is being written right "
                       "now; press Retry once it is done", error="not_requeued")
    handed = await anyio.to_thread.run_sync(lambda: _hand_to_conversations(engine, e164, match_json))
    log.info("%s %s created for call %s (%s); %d conversation(s) re-queued", wanted.entity, record["id"], call_id,
             mask_phone(e164), handed)
    return JSONResponse({
        "call_id": call_id, "entity": wanted.entity, "id": record["id"], "name": wanted.name, "status": "pending",
        "conversations": handed,
        "detail": f"{wanted.entity} {wanted.name} was created with {e164}; the call's note is written next",
    }, status_code=201)


async def search_companies(request: Request) -> JSONResponse:
    services = _authorised(request)
    text = request.query_params.get("q", "").strip()
    if len(text) > MAX_COMPANY_QUERY:
        raise ApiError(400, f"parameter 'q' must be at most {MAX_COMPANY_QUERY} characters",
                       error="invalid_parameter")
    query = company_query(text)
    if query is None:
        raise ApiError(400, "parameter 'q' is required: the first letters of the company's name",
                       error="invalid_parameter")
    try:
        with metered(Purpose.lookup):
            answer = await services.bullhorn.search("ClientCorporation", query, fields="id,name",
                                                    count=COMPANY_RESULTS, sort="name")
    except UpstreamUnavailable as error:
        raise ApiError(503, error.explanation, error="bullhorn_unavailable") from None
    except UpstreamRejected as error:
        raise ApiError(502, error.explanation, error="bullhorn_refused") from None
    companies = [{"id": item["id"], "name": item.get("name")} for item in answer.get("data") or []
                 if isinstance(item, Mapping) and isinstance(item.get("id"), int)]
    return JSONResponse({"companies": companies})


async def _create(services: Services, wanted: NewRecord, e164: str, agent_email: str | None) -> dict[str, Any]:
    bullhorn = services.bullhorn
    try:
        with metered(Purpose.note):
            owner = (await read_user_directory(bullhorn)).user_for_email(agent_email) if agent_email else None
            body = record_body(wanted, e164=e164, owner_id=owner)
            created = await bullhorn.create_entity(wanted.entity, body)
            try:
                record = await bullhorn.get(wanted.entity, created.id, fields=SEARCH_FIELDS[wanted.entity])
            except (UpstreamUnavailable, UpstreamRejected):  # it exists: what was sent is what it holds
                record = {}
    except UpstreamUnavailable as error:
        raise ApiError(503, error.explanation, error="bullhorn_unavailable") from None
    except UpstreamRejected as error:
        if "clientCorporation" in json.dumps(error.body or {}):
            raise ApiError(422, f"client_corporation_id is not a ClientCorporation Bullhorn accepts: "
                           f"{error.explanation}") from None
        raise ApiError(502, error.explanation, error="bullhorn_refused") from None
    return {**body, "isDeleted": False, "dateLastModified": 0, **record, "id": created.id}


async def _index_and_match(services: Services, wanted: NewRecord, record: dict[str, Any],
                           e164: str) -> dict[str, Any]:
    settings = services.settings
    entry = index_record(wanted.entity, record, default_region=settings.default_region)
    if entry is not None:
        index = PhoneIndex(services.store.engine)
        await anyio.to_thread.run_sync(lambda: index.put_records([entry], now=utcnow()))
    services.lookup.forget(e164)
    matches = verify_and_rank(e164, {wanted.entity: [record]}, default_region=settings.default_region,
                              excluded_statuses=settings.excluded_statuses)
    return {"matches": [match.to_json() for match in matches], "looked_up_at": iso_utc(utcnow())}


def _hand_to_conversations(engine: Any, e164: str, match_json: Mapping[str, Any]) -> int:
    ids = conversations.unmatched_for(engine, e164)
    return sum(conversations.requeue(engine, conversation_id, rematch=False, match_json=match_json)
               for conversation_id in ids)


def _authorised(request: Request) -> Services:
    services: Services = request.state.services
    require_api_key(request, services.settings)
    return services


ROUTES = [
    Route(f"/api/calls/{CALL_ID}/create-record", create_record, methods=["POST"]),
    Route("/api/companies", search_companies),
]
