"""`PUT entity/Candidate` and `PUT entity/ClientContact`: creating a person, as reference/bullhorn-next.md §3 has it.

Unknown fields answer 400; a ClientContact without its `clientCorporation` (no default) answers 400;
`owner` defaults to the API user (the creator); `name` is stored as sent (Bullhorn does not fill it
in). The new record is at once in search (the fake's index is rebuilt on write; the real one lags)
and in the event feed as INSERTED. Candidate, ClientContact and CorporateUser ids share one
sequence, as Bullhorn stores all three as Users.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.bullhorn import BullhornSandbox, bind
from sandbox.bullhorn_errors import BullhornError, cannot_persist, property_error
from sandbox.bullhorn_events import write_record
from sandbox.bullhorn_fields import BASE_FIELDS
from sandbox.bullhorn_search import request_body
from sandbox.demo_data import PHONE_FIELDS

CREATABLE = ("Candidate", "ClientContact")
_READ_ONLY = frozenset(("id", "dateAdded", "dateLastModified", "notes"))
_MAX_LENGTH = {"firstName": 50, "lastName": 50, "name": 100}


def _reference(value: Any) -> int | None:
    if isinstance(value, Mapping) and isinstance(value.get("id"), int) and not isinstance(value["id"], bool):
        return int(value["id"])
    return None


async def create_person(request: Request, sandbox: BullhornSandbox) -> Response:
    entity = request.path_params["entity"]
    if entity not in CREATABLE:
        raise BullhornError(400, f"The sandbox cannot create {entity} records.", "errors.unsupportedEntity",
                            entity_name=entity)
    body = await request_body(request)
    errors: list[dict[str, Any]] = []
    record: dict[str, Any] = {}
    for name, value in body.items():
        if name not in BASE_FIELDS[entity]:
            errors.append(property_error(name, "INVALID_FIELD"))
        elif name in _READ_ONLY:
            errors.append(property_error(name, "READ_ONLY"))
        elif name in ("owner", "clientCorporation"):
            target = "CorporateUser" if name == "owner" else "ClientCorporation"
            found = _reference(value)
            if found is None or found not in sandbox.table(target):
                errors.append(property_error(name, "INVALID_VALUE"))
            else:
                record[name] = _rendered(sandbox, target, found)
        elif value is not None and not isinstance(value, str | bool):
            errors.append(property_error(name, "INVALID_TYPE"))
        elif isinstance(value, str) and len(value) > _MAX_LENGTH.get(name, 100):
            errors.append(property_error(name, "INVALID_SIZE"))
        else:
            record[name] = value
    if entity == "ClientContact" and "clientCorporation" not in body:
        errors.append(property_error("clientCorporation", "MISSING_VALUE"))
    if errors:
        raise cannot_persist(entity, 400, errors)
    api_user = sandbox.config.api_user_id
    record.setdefault("owner", _rendered(sandbox, "CorporateUser", api_user))
    now = sandbox.now_ms()
    new_id = 1 + max((*sandbox.data.candidates, *sandbox.data.contacts, *sandbox.data.corporate_users))
    fresh = {**dict.fromkeys(PHONE_FIELDS[entity]), "status": None, "isDeleted": False, "dateAdded": now,
             **record}
    written = write_record(sandbox, entity, new_id, fresh, replace=True)
    return JSONResponse({"changedEntityType": entity, "changedEntityId": new_id, "changeType": "INSERT",
                         "data": dict(written), "messages": []})


def _rendered(sandbox: BullhornSandbox, entity: str, record_id: int) -> dict[str, Any]:
    found = sandbox.table(entity)[record_id]
    if entity == "ClientCorporation":
        return {"id": record_id, "name": found.get("name")}
    return {"id": record_id, "firstName": found.get("firstName"), "lastName": found.get("lastName")}


def record_routes(sandbox: BullhornSandbox) -> list[BaseRoute]:
    return [Route("/entity/{entity}", bind(sandbox, create_person), methods=["PUT"])]
