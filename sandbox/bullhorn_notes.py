"""`entity/*`: GET (single, multi-id, to-many), Note PUT/POST with Bullhorn's checks, NoteEntity PUT."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.bullhorn import BullhornSandbox, bind
from sandbox.bullhorn_errors import BullhornError, cannot_persist, property_error
from sandbox.bullhorn_fields import BASE_FIELDS, TO_MANY, fields_param
from sandbox.bullhorn_search import order, paging, request_body
from sandbox.bullhorn_store import Link

#: the to-many fields a Note create may fill, as arrays of {"id"}
NOTE_TO_MANY = {"candidates": "Candidate", "clientContacts": "ClientContact", "corporateUsers": "CorporateUser"}
NOTE_WRITABLE = frozenset(("action", "comments", "commentingPerson", "personReference", "jobOrder", "dateAdded",
                           "minutesSpent", "isDeleted", "externalID", "migrateGUID", *NOTE_TO_MANY))
_MAX_LENGTH = {"action": 30, "externalID": 100, "migrateGUID": 36}
# Error `type`s other than DUPLICATE_VALUE and ATTEMPT_TO_SET_TO_MANY are not in any source we have;
# the names follow the same style so that a client can show them.


def _reference_id(value: Any) -> int | None:
    if isinstance(value, Mapping) and isinstance(value.get("id"), int) and not isinstance(value["id"], bool):
        return int(value["id"])
    return None


class _NoteChecks:
    def __init__(self, sandbox: BullhornSandbox, body: Mapping[str, Any], *, creating: bool) -> None:
        self.sandbox = sandbox
        self.errors: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.changes: dict[str, Any] = {}
        self.people: list[int] = []
        for name, value in body.items():
            self._field(name, value, creating)
        if creating:
            for required in ("personReference", "comments"):
                if body.get(required) is None:
                    self.errors.append(property_error(required, "MISSING_VALUE"))

    def _field(self, name: str, value: Any, creating: bool) -> None:
        if name not in BASE_FIELDS["Note"]:
            self.errors.append(property_error(name, "INVALID_FIELD"))
        elif name not in NOTE_WRITABLE:
            self.errors.append(property_error(name, "READ_ONLY"))
        elif name in NOTE_TO_MANY:
            self._to_many(name, value, creating)
        elif name == "personReference":
            self._reference(name, value, lambda found: found is not None)
        elif name == "commentingPerson":
            self._reference(name, value, lambda found: found is not None and found[0] == "CorporateUser")
        elif name == "jobOrder":
            job_id = _reference_id(value)
            job = self.sandbox.data.job_orders.get(job_id) if job_id is not None else None
            self._accept(name, None if value is None else {"id": job_id},
                         value is None or (job is not None and not job.get("isDeleted")))
        elif name in ("minutesSpent", "dateAdded"):
            whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
            self._accept(name, int(value) if whole else value, whole and not isinstance(value, bool), "INVALID_TYPE")
        elif name == "isDeleted":
            self._accept(name, value, isinstance(value, bool), "INVALID_TYPE")
        elif value is not None and not isinstance(value, str):
            self.errors.append(property_error(name, "INVALID_TYPE"))
        elif name in _MAX_LENGTH and value is not None and len(value) > _MAX_LENGTH[name]:
            self.errors.append(property_error(name, "INVALID_SIZE"))
        else:
            self.changes[name] = value

    def _accept(self, name: str, value: Any, valid: bool, error_type: str = "INVALID_VALUE") -> None:
        if valid:
            self.changes[name] = value
        else:
            self.errors.append(property_error(name, error_type))

    def _reference(self, name: str, value: Any, valid: Any) -> None:
        person_id = _reference_id(value)
        found = self.sandbox.person(person_id) if person_id is not None else None
        self._accept(name, {"id": person_id}, person_id is not None and bool(valid(found)))

    def _to_many(self, name: str, value: Any, creating: bool) -> None:
        # To-many fields are set only in a create, and only as arrays; otherwise Bullhorn answers 200
        # and says so in `messages`, which is exactly the silent failure a client must catch.
        if not creating or isinstance(value, Mapping):
            self.messages.append({"detailMessage": f"Cannot set to-many association '{name}' this way; ignored.",
                                  "propertyName": name, "severity": "WARNING", "type": "ATTEMPT_TO_SET_TO_MANY"})
            return
        if not isinstance(value, list):
            self.errors.append(property_error(name, "INVALID_TYPE"))
            return
        for item in value:
            person_id = _reference_id(item)
            found = self.sandbox.person(person_id) if person_id is not None else None
            if person_id is None or found is None or found[0] != NOTE_TO_MANY[name]:
                self.errors.append(property_error(name, "INVALID_VALUE"))
                return
            self.people.append(person_id)


def _link(sandbox: BullhornSandbox, note_id: int, person_id: int) -> Link | None:
    return sandbox.store.add_link(note_id, person_id, "User", sandbox.now_ms())


def _changed(entity: str, entity_id: int, change: str, data: dict[str, Any], messages: list[Any]) -> Response:
    return JSONResponse({"changedEntityType": entity, "changedEntityId": entity_id, "changeType": change,
                         "data": data, "messages": messages})


async def create_note(request: Request, sandbox: BullhornSandbox) -> Response:
    body = await request_body(request)
    checks = _NoteChecks(sandbox, body, creating=True)
    if checks.errors:
        raise cannot_persist("Note", 400, checks.errors)
    now = sandbox.now_ms()
    note: dict[str, Any] = {"id": None, "action": None, "commentingPerson": {"id": sandbox.config.api_user_id},
                            "dateAdded": now, "minutesSpent": None, "isDeleted": False, "externalID": None,
                            "migrateGUID": None, "jobOrder": None, **checks.changes, "dateLastModified": now}
    note_id = sandbox.store.add_note(note)
    for person_id in [note["personReference"]["id"], *checks.people]:
        _link(sandbox, note_id, person_id)
    sandbox.changed("Note", note_id)
    return _changed("Note", note_id, "INSERT", dict(note), checks.messages)


async def update_note(request: Request, sandbox: BullhornSandbox) -> Response:
    note_id = int(request.path_params["id"])
    note = sandbox.notes.get(note_id)
    if note is None:
        raise BullhornError(404, f"Unable to find Note with id {note_id}.", "errors.entityNotFound", entity_name="Note")
    if not sandbox.config.note_edit_allowed:
        raise BullhornError(403, f"User does not have permission to edit Note {note_id}.",
                            "errors.authorization.noEditPermission", entity_name="Note")
    body = await request_body(request)
    checks = _NoteChecks(sandbox, body, creating=False)
    if checks.errors:
        raise cannot_persist("Note", 400, checks.errors)
    note.update(checks.changes, dateLastModified=sandbox.now_ms())
    if "personReference" in checks.changes:
        _link(sandbox, note_id, checks.changes["personReference"]["id"])
    sandbox.changed("Note", note_id)
    return _changed("Note", note_id, "UPDATE", dict(checks.changes), checks.messages)


async def create_note_entity(request: Request, sandbox: BullhornSandbox) -> Response:
    body = await request_body(request)
    errors = [property_error(name, "INVALID_FIELD") for name in body if name not in BASE_FIELDS["NoteEntity"]]
    note_id, target_id = _reference_id(body.get("note")), body.get("targetEntityID")
    if note_id is None or note_id not in sandbox.notes:
        errors.append(property_error("note", "INVALID_VALUE" if "note" in body else "MISSING_VALUE"))
    if body.get("targetEntityName") != "User":
        # JobOrder and Placement are valid targets in Bullhorn, but the demo tenant has neither.
        errors.append(property_error("targetEntityName", "INVALID_VALUE"))
    if not isinstance(target_id, int) or sandbox.person(target_id) is None:
        errors.append(property_error("targetEntityID", "INVALID_VALUE"))
    if errors:
        raise cannot_persist("NoteEntity", 400, errors)
    assert note_id is not None and isinstance(target_id, int)
    link = _link(sandbox, note_id, target_id)
    if link is None:
        raise cannot_persist("NoteEntity", 500, [property_error(None, "DUPLICATE_VALUE")])
    return _changed("NoteEntity", link.id, "INSERT", link.as_record(), [])


def _ids(raw: str) -> list[int]:
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise BullhornError(400, f"Invalid entity id list: {raw!r}.", "errors.invalidId") from exc


async def get_entity(request: Request, sandbox: BullhornSandbox) -> Response:
    entity, raw_ids = request.path_params["entity"], request.path_params["ids"]
    table = sandbox.table(entity)
    specs = fields_param(request.query_params.get("fields"))
    ids = _ids(raw_ids)
    found = [table[record_id] for record_id in ids if record_id in table]
    if not found:
        raise BullhornError(404, f"Unable to find {entity} with id {raw_ids}.", "errors.entityNotFound",
                            entity_name=entity)
    if len(ids) > 1:
        # The default count of a multi-id GET is undocumented (DESIGN §10): all asked, or 20 like a query.
        start, count = paging(request.query_params, len(ids) if sandbox.config.multi_get == "all" else 20)
        found = found[start:start + count]
    rendered = [sandbox.renderer.render(entity, record, specs) for record in found]
    return JSONResponse({"data": rendered[0] if len(ids) == 1 else rendered})


async def get_to_many(request: Request, sandbox: BullhornSandbox) -> Response:
    entity, association = request.path_params["entity"], request.path_params["association"]
    record = sandbox.table(entity).get(_ids(request.path_params["id"])[0])
    target = TO_MANY.get(entity, {}).get(association)
    if target is None:
        raise BullhornError(400, f"Invalid field '{association}' for entity {entity}.", "errors.invalidField",
                            entity_name=entity)
    if record is None:
        raise BullhornError(404, f"Unable to find {entity} with id {request.path_params['id']}.",
                            "errors.entityNotFound", entity_name=entity)
    items = sandbox.many(entity, record, association)
    ordered = order((dict(item) for _, item in items), request.query_params.get("orderBy"))
    start, count = paging(request.query_params)
    specs = fields_param(request.query_params.get("fields"))
    by_id = {item["id"]: kind for kind, item in items}
    data = [sandbox.renderer.render(by_id.get(item["id"], target), item, specs)
            for item in ordered[start:start + count]]
    return JSONResponse({"total": len(ordered), "start": start, "count": len(data), "data": data})


def note_routes(sandbox: BullhornSandbox) -> list[BaseRoute]:
    return [
        Route("/entity/Note", bind(sandbox, create_note), methods=["PUT"]),
        Route("/entity/NoteEntity", bind(sandbox, create_note_entity), methods=["PUT"]),
        Route("/entity/Note/{id:int}", bind(sandbox, update_note), methods=["POST"]),
        Route("/entity/{entity}/{ids}", bind(sandbox, get_entity), methods=["GET"]),
        Route("/entity/{entity}/{id}/{association}", bind(sandbox, get_to_many), methods=["GET"]),
    ]
