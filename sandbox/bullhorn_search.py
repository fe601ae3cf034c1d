"""`search/{Entity}` (Lucene over an analysed copy), `query/{Entity}` (JPQL-ish where) and settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.bullhorn import BullhornSandbox, analyzer_for, bind
from sandbox.bullhorn_errors import BullhornError
from sandbox.bullhorn_fields import ENTITIES, PIPELINE_ENTITIES, fields_param
from sandbox.lucene import LuceneSyntaxError, compile_query
from sandbox.where import WhereSyntaxError, compile_where

SEARCHABLE = ("Candidate", "ClientContact", "ClientCorporation", "Note")
QUERYABLE = ("ClientContact", "ClientCorporation", "CorporateUser", "NoteEntity", *PIPELINE_ENTITIES)
DEFAULT_COUNT = 20
MAX_COUNT = 500
#: Note's index names its id `noteID` and its people by id (bullhorn/dataloader FindUtil.java)
NOTE_SEARCH_FIELDS = frozenset(("noteID", "externalID", "personReferenceID", "commentingPersonID", "isDeleted",
                                "action", "comments", "dateAdded", "dateLastModified", "minutesSpent"))


def note_document(note: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "noteID": note["id"], "externalID": note.get("externalID"),
        "personReferenceID": (note.get("personReference") or {}).get("id"),
        "commentingPersonID": (note.get("commentingPerson") or {}).get("id"),
        "isDeleted": note.get("isDeleted", False), "action": note.get("action"), "comments": note.get("comments"),
        "dateAdded": note.get("dateAdded"), "dateLastModified": note.get("dateLastModified"),
        "minutesSpent": note.get("minutesSpent"),
    }


def _same(record: dict[str, Any]) -> dict[str, Any]:
    return record


def _to_document(entity: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return note_document if entity == "Note" else _same


async def request_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BullhornError(400, "Malformed JSON in request body.", "errors.malformedJson") from exc
    if not isinstance(body, dict):
        raise BullhornError(400, "Request body must be a JSON object.", "errors.malformedJson")
    return body


def paging(params: Mapping[str, Any], default_count: int = DEFAULT_COUNT) -> tuple[int, int]:
    try:
        start = int(params.get("start", 0))
        count = int(params.get("count", default_count))
    except (TypeError, ValueError) as exc:
        raise BullhornError(400, "start and count must be integers.") from exc
    if start < 0 or count < 0:
        raise BullhornError(400, "start and count must not be negative.")
    return start, min(count, MAX_COUNT)


def _path_value(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def order(records: Iterable[dict[str, Any]], spec: str | None) -> list[dict[str, Any]]:
    ordered = sorted(records, key=lambda record: record.get("id") or 0)
    keys = [key.strip() for key in (spec or "").split(",") if key.strip()]
    for key in reversed(keys):
        descending = key.startswith("-")
        path = key.lstrip("+-")
        present = [record for record in ordered if _path_value(record, path) is not None]
        missing = [record for record in ordered if _path_value(record, path) is None]
        try:
            present.sort(key=lambda record: _path_value(record, path), reverse=descending)
        except TypeError:  # mixed value types in one field: compare their text, as an index would
            present.sort(key=lambda record: str(_path_value(record, path)), reverse=descending)
        ordered = present + missing
    return ordered


def _check_entity(entity: str, supported: tuple[str, ...], operation: str) -> None:
    if entity not in ENTITIES:
        raise BullhornError(404, f"Unknown entity type: {entity}", "errors.unknownEntity")
    if entity not in supported:
        raise BullhornError(400, f"{operation} operation not supported for {entity}", entity_name=entity)


async def _entity_and_params(
    request: Request, supported: tuple[str, ...], operation: str
) -> tuple[str, dict[str, Any]]:
    entity = request.path_params["entity"]
    _check_entity(entity, supported, operation)
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        params.update(await request_body(request))
    return entity, params


def search_fields(sandbox: BullhornSandbox, entity: str) -> frozenset[str]:
    if entity == "Note":
        return NOTE_SEARCH_FIELDS
    return sandbox.indexed_fields(entity, analyzer_for(entity), _same) | sandbox.schema(entity)


async def search(request: Request, sandbox: BullhornSandbox) -> Response:
    entity, params = await _entity_and_params(request, SEARCHABLE, "Search")
    query = params.get("query")
    if query is None and request.method == "GET" and not request.query_params:
        return JSONResponse({"entity": entity, "fields": sorted(search_fields(sandbox, entity))})
    if not isinstance(query, str) or not query.strip():
        raise BullhornError(400, "Missing required parameter: query", "errors.missingParameter")
    analyzer = analyzer_for(entity)
    try:
        # DESIGN §10: whether Bullhorn's `id` ranges compare numbers or text is unknown
        text_ranges = frozenset({"id"}) if sandbox.config.id_range == "text" else frozenset()
        compiled = compile_query(query, analyzer, text_ranges=text_ranges)
    except LuceneSyntaxError as exc:
        raise BullhornError(400, f"Invalid query: {exc}", "errors.invalidQuery") from exc
    unknown = sorted(compiled.fields - search_fields(sandbox, entity))
    if unknown:
        raise BullhornError(400, f"Invalid field '{unknown[0]}' in query for entity {entity}.",
                            "errors.invalidField", entity_name=entity)
    specs = fields_param(params.get("fields"))
    start, count = paging(params)
    table = sandbox.table(entity)
    documents = sandbox.documents(entity, analyzer, _to_document(entity))
    sort = params.get("sort")
    hits = sandbox.search_hits(
        (entity, query, str(sort), str(sorted(text_ranges))),
        lambda: order((table[i] for i, document in documents.items() if compiled.matches_document(document)), sort))
    page = hits[start:start + count]
    data = [{"_score": 1.0, **sandbox.renderer.render(entity, record, specs)} for record in page]
    return JSONResponse({"total": len(hits), "start": start, "count": len(data), "data": data})


async def query(request: Request, sandbox: BullhornSandbox) -> Response:
    entity, params = await _entity_and_params(request, QUERYABLE, "Query")
    if entity in PIPELINE_ENTITIES and sandbox.config.pipeline_refused:
        # An API user without the entitlement gets 403; the key is undocumented [UNVERIFIED].
        raise BullhornError(403, f"User does not have the right to read {entity}.", "errors.permissionDenied",
                            entity_name=entity)
    where = params.get("where")
    if not isinstance(where, str) or not where.strip():
        raise BullhornError(400, "Missing required parameter: where", "errors.missingParameter")
    try:
        compiled = compile_where(where, case_insensitive=sandbox.config.case_insensitive_where)
    except WhereSyntaxError as exc:
        raise BullhornError(400, f"Invalid where clause: {exc}", "errors.invalidQuery") from exc
    known = sandbox.schema(entity)
    unknown = sorted(path for path in compiled.paths if path.split(".")[0] not in known)
    if unknown:
        raise BullhornError(400, f"Invalid field '{unknown[0]}' in where for entity {entity}.",
                            "errors.invalidField", entity_name=entity)
    specs = fields_param(params.get("fields"))
    start, count = paging(params)
    hits = order((record for record in sandbox.table(entity).values() if compiled(record)), params.get("orderBy"))
    data = [sandbox.renderer.render(entity, record, specs) for record in hits[start:start + count]]
    answer: dict[str, Any] = {"start": start, "count": len(data), "data": data}
    if params.get("showTotalMatched") == "true":
        answer["total"] = len(hits)
    return JSONResponse(answer)


async def settings(request: Request, sandbox: BullhornSandbox) -> Response:
    known: dict[str, Any] = {"commentActionList": list(sandbox.data.comment_actions)}
    names = request.path_params["names"].split(",")
    return JSONResponse({name: known[name] for name in names if name in known})


def search_routes(sandbox: BullhornSandbox) -> list[BaseRoute]:
    return [
        Route("/search/{entity}", bind(sandbox, search), methods=["GET", "POST"]),
        Route("/query/{entity}", bind(sandbox, query), methods=["GET", "POST"]),
        Route("/settings/{names}", bind(sandbox, settings), methods=["GET"]),
    ]
