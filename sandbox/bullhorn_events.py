"""`event/subscription/*`: Bullhorn's entity event subscriptions, and the record writes that feed them.

Documented (reference/bullhorn.md §7, bullhorn.github.io/REST-API-Event-Subscriptions): a PUT
subscribes, a GET returns at most 100 events and **purges** them, `?requestId=N` re-reads the batch
of an earlier GET, `/lastRequestId` answers `{"result": N}`, DELETE unsubscribes, and a subscription
left unpolled expires (7 days per the guide, 30 per the KB: `subscription_ttl_s`). Where the
documents are silent the fake takes the reading a client must survive; each such place says so.
"""

from __future__ import annotations

import itertools
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.bullhorn_errors import BullhornError

if TYPE_CHECKING:
    from sandbox.bullhorn import BullhornSandbox

MAX_EVENTS = 100
EVENT_TYPES = frozenset({"INSERTED", "UPDATED", "DELETED"})
#: how many earlier batches stay re-readable by requestId; Bullhorn does not say, so the fake keeps few
KEPT_BATCHES = 10
#: the numeric corporation id Bullhorn puts in the JMS selector (the demo tenant's)
CORP_ID = 12345


def _not_found(subscription_id: str) -> BullhornError:
    # The status and key for an unknown or expired subscription are undocumented [UNVERIFIED]; a 404
    # is what the client must handle by subscribing again and re-reading everything.
    return BullhornError(404, f"Subscription {subscription_id} not found.", "errors.subscriptionNotFound")


@dataclass
class Subscription:
    id: str
    names: frozenset[str]
    event_types: frozenset[str]
    created_on_ms: int
    last_used_s: float
    pending: list[dict[str, Any]] = field(default_factory=list)
    last_request_id: int = 0
    batches: OrderedDict[int, list[dict[str, Any]]] = field(default_factory=OrderedDict)

    def as_created(self) -> dict[str, Any]:
        names = ",".join(f"'{name}'" for name in sorted(self.names))
        types = ",".join(f"'{kind}'" for kind in sorted(self.event_types))
        selector = (f"JMSType='ENTITY' AND BhCorpId={CORP_ID} AND BhEntityName IN ({names}) "
                    f"AND BhEntityEventType IN ({types})")
        return {"lastRequestId": self.last_request_id, "subscriptionId": self.id, "createdOn": self.created_on_ms,
                "jmsSelector": selector}


class EventHub:
    """Every subscription of the tenant; `publish` fans an entity change out to those that asked for it."""

    def __init__(self, clock: Callable[[], float], ttl_s: Callable[[], float], person_id: int, *,
                 advance_on_empty: Callable[[], bool] = lambda: False) -> None:
        self._clock = clock
        self._ttl_s = ttl_s
        #: DESIGN §10 reading 2: every poll takes a requestId, an empty one too (gaps that mean nothing)
        self._advance_on_empty = advance_on_empty
        self._person_id = person_id
        self._subscriptions: dict[str, Subscription] = {}
        self._event_ids = itertools.count(40_000_001)

    def subscribe(self, subscription_id: str, names: frozenset[str], event_types: frozenset[str]) -> Subscription:
        self._expire()
        if subscription_id in self._subscriptions:
            # Re-subscribing a live id is undocumented [UNVERIFIED]: refusing it is the harsh reading,
            # so a client that wants a fresh start unsubscribes first.
            raise BullhornError(400, f"Subscription {subscription_id} already exists.",
                                "errors.subscriptionAlreadyExists")
        now = self._clock()
        created = Subscription(subscription_id, names, event_types, int(now * 1000), now)
        self._subscriptions[subscription_id] = created
        return created

    def unsubscribe(self, subscription_id: str) -> None:
        self._expire()
        if self._subscriptions.pop(subscription_id, None) is None:
            raise _not_found(subscription_id)

    def get(self, subscription_id: str) -> Subscription:
        self._expire()
        found = self._subscriptions.get(subscription_id)
        if found is None:
            raise _not_found(subscription_id)
        return found

    def poll(self, subscription_id: str, max_events: int, request_id: int | None = None) -> dict[str, Any] | None:
        subscription = self.get(subscription_id)
        subscription.last_used_s = self._clock()
        if request_id is not None:
            batch = subscription.batches.get(request_id)
            if batch is None:
                raise BullhornError(400, f"Request {request_id} is not available for re-reading.",
                                    "errors.invalidRequestId")
            return {"requestId": request_id, "events": batch}
        if not subscription.pending and not self._advance_on_empty():
            return None
        # Reading purges: what is returned here is gone from the queue, re-readable only by requestId.
        batch = subscription.pending[:max_events]
        del subscription.pending[:max_events]
        subscription.last_request_id += 1
        subscription.batches[subscription.last_request_id] = batch
        while len(subscription.batches) > KEPT_BATCHES:
            subscription.batches.popitem(last=False)
        # an empty poll still answers an empty body, its requestId visible only in /lastRequestId
        return {"requestId": subscription.last_request_id, "events": batch} if batch else None

    def publish(self, entity: str, entity_id: int, event_type: str, updated: Iterable[str]) -> None:
        self._expire()
        properties = sorted(updated)
        for subscription in self._subscriptions.values():
            if entity in subscription.names and event_type in subscription.event_types:
                subscription.pending.append(self._event(entity, entity_id, event_type, properties))

    def _event(self, entity: str, entity_id: int, event_type: str, properties: list[str]) -> dict[str, Any]:
        return {
            "eventId": f"ID:JBM-{next(self._event_ids)}", "eventType": "ENTITY",
            "eventTimestamp": int(self._clock() * 1000),
            "eventMetadata": {"PERSON_ID": self._person_id, "TRANSACTION_ID": str(uuid.uuid4())},
            "entityName": entity, "entityId": entity_id, "entityEventType": event_type,
            "updatedProperties": properties,
        }

    def _expire(self) -> None:
        deadline = self._clock() - self._ttl_s()
        for name in [name for name, sub in self._subscriptions.items() if sub.last_used_s < deadline]:
            del self._subscriptions[name]


def write_record(sandbox: BullhornSandbox, entity: str, record_id: int, changes: Mapping[str, Any], *,
                 replace: bool) -> dict[str, Any]:
    """Store a record change as Bullhorn's UI would, and publish the event it causes.

    A new id is INSERTED; a change is UPDATED naming the properties whose value changed (a write
    changing nothing publishes nothing). Whether Bullhorn publishes a soft delete as UPDATED with
    `isDeleted` or as DELETED is [UNVERIFIED] (DESIGN §10): `config.soft_delete` picks.
    """
    table = sandbox.table(entity)
    before = table.get(record_id)
    record = dict(changes) if replace or before is None else {**before, **changes}
    record["id"] = record_id
    record.setdefault("isDeleted", False)
    changed = sorted(key for key in record.keys() | (before or {}).keys()
                     if key != "dateLastModified" and (before or {}).get(key) != record.get(key))
    if before is not None and not changed:
        return before
    if "dateLastModified" not in changes:
        record["dateLastModified"] = sandbox.now_ms()
    table[record_id] = record
    sandbox.changed(entity, record_id)
    if before is None:
        sandbox.events.publish(entity, record_id, "INSERTED", (key for key, value in record.items()
                                                               if value is not None))
    elif record.get("isDeleted") and not before.get("isDeleted") and sandbox.config.soft_delete == "deleted":
        sandbox.events.publish(entity, record_id, "DELETED", ())
    else:
        sandbox.events.publish(entity, record_id, "UPDATED", [*changed, "dateLastModified"])
    return record


def _names(raw: str | None, allowed: frozenset[str] | None, what: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in (raw or "").split(",") if part.strip())
    if not names:
        raise BullhornError(400, f"Missing required parameter: {what}", "errors.missingParameter")
    if allowed is not None and names - allowed:
        raise BullhornError(400, f"Invalid {what}: {', '.join(sorted(names - allowed))}", "errors.invalidParameter")
    return names


async def put_subscription(request: Request, sandbox: BullhornSandbox) -> Response:
    if not sandbox.config.event_subscriptions_allowed:
        # Bullhorn documents 403 "Forbidden" and the shape of its error body, not the message or key a
        # missing event right gets [UNVERIFIED]: a client goes by the status, never by this text.
        raise BullhornError(403, "User does not have the right to subscribe to events.", "errors.permissionDenied")
    params = request.query_params
    if params.get("type", "entity") != "entity":
        raise BullhornError(400, "Only type=entity subscriptions are supported here.", "errors.invalidParameter")
    names = _names(params.get("names"), None, "names")
    for name in names:
        sandbox.table(name)  # 404 for an unknown entity, as any entity path answers
    subscription = sandbox.events.subscribe(request.path_params["subscription"], names,
                                            _names(params.get("eventTypes"), EVENT_TYPES, "eventTypes"))
    return JSONResponse(subscription.as_created())


async def get_events(request: Request, sandbox: BullhornSandbox) -> Response:
    params = request.query_params
    try:
        # Bullhorn caps a read at 100 events; whether it refuses more or clamps is [UNVERIFIED]: clamp.
        max_events = min(MAX_EVENTS, int(params["maxEvents"]))
        request_id = int(params["requestId"]) if "requestId" in params else None
    except KeyError as exc:
        raise BullhornError(400, "Missing required parameter: maxEvents", "errors.missingParameter") from exc
    except ValueError as exc:
        raise BullhornError(400, "maxEvents and requestId must be integers.", "errors.invalidParameter") from exc
    if max_events < 1:
        raise BullhornError(400, "maxEvents must be at least 1.", "errors.invalidParameter")
    answer = sandbox.events.poll(request.path_params["subscription"], max_events, request_id)
    # With nothing pending Bullhorn answers 200 with an empty body rather than `{"events": []}`
    # (what sdk-rest's null check implies; [UNVERIFIED]); a client must accept either.
    return Response(status_code=200) if answer is None else JSONResponse(answer)


async def get_last_request_id(request: Request, sandbox: BullhornSandbox) -> Response:
    subscription = sandbox.events.get(request.path_params["subscription"])
    return JSONResponse({"result": subscription.last_request_id})


async def delete_subscription(request: Request, sandbox: BullhornSandbox) -> Response:
    sandbox.events.unsubscribe(request.path_params["subscription"])
    return JSONResponse({"result": True})


def event_routes(sandbox: BullhornSandbox) -> list[BaseRoute]:
    from sandbox.bullhorn import bind

    path = "/event/subscription/{subscription}"
    return [
        Route(path, bind(sandbox, put_subscription), methods=["PUT"]),
        Route(path, bind(sandbox, get_events), methods=["GET"]),
        Route(path, bind(sandbox, delete_subscription), methods=["DELETE"]),
        Route(path + "/lastRequestId", bind(sandbox, get_last_request_id), methods=["GET"]),
    ]
