"""A faithful fake of Bullhorn REST as a Starlette app: `create_bullhorn_app()`.

The live state is `app.state.sandbox` (a `BullhornSandbox`); `/_sandbox/*` inspects and steers it.
Where reference/bullhorn.md marks a behaviour unverified, the fake takes the harsher reading.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Scope

from sandbox import people
from sandbox.bullhorn_auth import AuthState, auth_routes, authenticate, session_routes
from sandbox.bullhorn_errors import BullhornError, error_response, handle_bullhorn_error, rate_limited_response
from sandbox.bullhorn_events import EventHub, event_routes
from sandbox.bullhorn_fields import BASE_FIELDS, PERSON, PERSON_ENTITIES, TO_MANY, Renderer
from sandbox.bullhorn_store import Link, NoteStore
from sandbox.demo_data import PHONE_FIELDS, DemoData
from sandbox.faults import FaultConfig, FaultInjector, FaultMiddleware, path_in_app
from sandbox.lucene import Analyzer, Document, analyze_record, default_analyzer
from sandbox.readings import EventRequestId, IdRange, LoginHost, MultiGet, SessionTtl, SoftDelete


@dataclass
class BullhornSandboxConfig(FaultConfig):
    client_id: str = "callbridge-demo"
    client_secret: str = "demo-secret"
    username: str = people.API_USERNAME
    password: str = "demo-password"
    #: what Bullhorn Support registered; the authorize redirect goes here
    redirect_uri: str = "https://www.bullhorn.com/"
    corp_token: str = "nw7k2"
    api_user_id: int = people.API_USER_ID
    session_lifetime_s: float = 600 * 6
    note_edit_allowed: bool = True
    #: False: the API user lacks the right to subscribe to events (`PUT event/subscription` answers 403);
    #: the one switch for it (`--bullhorn-events-refused`, `/_sandbox/config`, tests)
    event_subscriptions_allowed: bool = True
    case_insensitive_where: bool = True
    data_center_id: int = 3
    super_cluster_id: int = 33
    #: an unpolled event subscription expires after this (7 days per the events guide, 30 per the KB)
    subscription_ttl_s: float = 7 * 86_400
    #: the host `/login` names in its restUrl, as a swimlane does (None: the host asked)
    rest_host: str | None = None
    # DESIGN §10, one field per reading (sandbox.readings; defaults: the harsher reading)
    multi_get: MultiGet = "count_20"
    event_request_id: EventRequestId = "every_poll"
    id_range: IdRange = "text"
    login_host: LoginHost = "login_info"
    session_ttl: SessionTtl = "default"
    soft_delete: SoftDelete = "updated"
    #: the API user lacks the rights to read JobSubmission, Placement and JobOrder (`query/*` answers 403)
    pipeline_refused: bool = False


#: searches whose hits are kept (oldest dropped first)
HIT_CACHE_SIZE = 8

ToDocument = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class BullhornSandbox:
    data: DemoData
    config: BullhornSandboxConfig
    faults: FaultInjector = field(init=False)
    events: EventHub = field(init=False)
    auth: AuthState = field(default_factory=AuthState)
    store: NoteStore = field(default_factory=NoteStore)
    #: the tenant as it started, for `reset` (pickled: several times cheaper than a deep copy, and every
    #: in-process test stack builds one)
    _pristine: bytes = field(init=False, repr=False)
    _documents: dict[str, dict[int, Document]] = field(default_factory=dict, repr=False)
    _schemas: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _indexed: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _analysis: dict[str, tuple[Analyzer, ToDocument]] = field(default_factory=dict, repr=False)
    #: the ordered hits of the last few searches, as an index keeps a query's results between pages
    _hits: dict[tuple[str, ...], list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.faults = FaultInjector(self.config)
        self.events = self._event_hub()
        self._pristine = pickle.dumps(self.data, protocol=pickle.HIGHEST_PROTOCOL)
        self.renderer = Renderer(self.schema, self.resolve, self.many)

    def reset(self) -> None:
        self.data = pickle.loads(self._pristine)
        self.auth = AuthState()
        self.store = NoteStore()
        self.faults.reset()
        self.events = self._event_hub()
        self.changed(None)

    def _event_hub(self) -> EventHub:
        return EventHub(lambda: self.config.clock(), lambda: self.config.subscription_ttl_s, self.config.api_user_id,
                        advance_on_empty=lambda: self.config.event_request_id == "every_poll")

    @property
    def notes(self) -> dict[int, dict[str, Any]]:
        return self.store.notes

    @property
    def links(self) -> dict[int, Link]:
        return self.store.links

    def now_ms(self) -> int:
        return int(self.config.clock() * 1000)

    def table(self, entity: str) -> dict[int, dict[str, Any]]:
        if entity == "NoteEntity":
            return {link.id: link.as_record() for link in self.links.values()}
        tables: dict[str, dict[int, dict[str, Any]]] = {
            "Candidate": self.data.candidates, "ClientContact": self.data.contacts,
            "ClientCorporation": self.data.companies, "CorporateUser": self.data.corporate_users,
            "Note": self.notes, "JobOrder": self.data.job_orders, "JobSubmission": self.data.submissions,
            "Placement": self.data.placements,
        }
        if entity not in tables:
            raise BullhornError(404, f"Unknown entity type: {entity}", "errors.unknownEntity")
        return tables[entity]

    def changed(self, entity: str | None, record_id: int | None = None) -> None:
        """Bring what was derived from records up to date: one record's, or all of `entity` (None: all)."""
        if entity is None:
            for cache in (self._documents, self._schemas, self._indexed, self._analysis, self._hits):
                cache.clear()
            return
        for key in [key for key in self._hits if key[0] == entity]:
            del self._hits[key]
        record = self.table(entity).get(record_id) if record_id is not None else None
        if record is None or entity not in self._documents:
            for cache in (self._documents, self._schemas, self._indexed):
                cache.pop(entity, None)
            return
        analyzer, to_document = self._analysis[entity]
        document = analyze_record(to_document(record), analyzer)
        self._documents[entity][int(record["id"])] = document
        self._indexed[entity] = self._indexed[entity] | document.keys()
        if entity in self._schemas:
            self._schemas[entity] = self._schemas[entity] | record.keys()

    def schema(self, entity: str) -> frozenset[str]:
        if entity not in self._schemas:
            keys = {key for record in self.table(entity).values() for key in record}
            self._schemas[entity] = BASE_FIELDS.get(entity, frozenset()) | keys
        return self._schemas[entity]

    def person(self, person_id: int) -> tuple[str, dict[str, Any]] | None:
        for entity in PERSON_ENTITIES:
            record = self.table(entity).get(person_id)
            if record is not None:
                return entity, record
        return None

    def resolve(self, entity: str, record_id: int) -> tuple[str, Mapping[str, Any]] | None:
        if entity == PERSON:
            return self.person(record_id)
        record = self.table(entity).get(record_id)
        return None if record is None else (entity, record)

    def linked_people(self, note_id: int) -> list[tuple[str, dict[str, Any]]]:
        found = (self.person(link.target_id) for link in self.store.links_of_note(note_id)
                 if link.target_entity_name == "User")
        return [person for person in found if person is not None]

    def person_notes(self, person_id: int) -> list[dict[str, Any]]:
        notes = (self.notes[note_id] for note_id in self.store.note_ids_of("User", person_id))
        # To-many reads hide soft-deleted children.
        return [note for note in notes if not note.get("isDeleted")]

    def many(self, entity: str, record: Mapping[str, Any], name: str) -> list[tuple[str, Mapping[str, Any]]]:
        target = TO_MANY.get(entity, {}).get(name)
        if entity == "Note" and target is not None:
            linked = self.linked_people(int(record["id"]))
            return [(kind, person) for kind, person in linked if target in (PERSON, kind)]
        if name == "notes":
            return [("Note", note) for note in self.person_notes(int(record["id"]))]
        return []

    def documents(self, entity: str, analyzer: Analyzer, to_document: ToDocument,
                  ) -> dict[int, Document]:
        """Records of `entity` analysed once, like an index; rebuilt after writes."""
        if entity not in self._documents:
            self._analysis[entity] = (analyzer, to_document)
            self._documents[entity] = {
                record_id: analyze_record(to_document(record), analyzer)
                for record_id, record in self.table(entity).items()
            }
            self._indexed[entity] = frozenset(name for doc in self._documents[entity].values() for name in doc)
        return self._documents[entity]

    def search_hits(self, key: tuple[str, ...], search: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """`search()`'s ordered hits, kept until a record of `key[0]` (the entity) changes.

        Paging through a million records asks the same query once per page: scanning every record
        for each page would make the fake, not the client, what a benchmark measures.
        """
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= HIT_CACHE_SIZE:
                del self._hits[next(iter(self._hits))]
            hits = self._hits[key] = search()
        return hits

    def indexed_fields(self, entity: str, analyzer: Analyzer,
                       to_document: ToDocument) -> frozenset[str]:
        """Every dotted field name some analysed record of `entity` has."""
        self.documents(entity, analyzer, to_document)
        return self._indexed[entity]


def analyzer_for(entity: str) -> Analyzer:
    return default_analyzer(frozenset(PHONE_FIELDS.get(entity, ())))


RestHandler = Callable[[Request, BullhornSandbox], Awaitable[Response]]


def bind(sandbox: BullhornSandbox, handler: RestHandler, *, session: bool = True,
         ) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if session:
            authenticate(request, sandbox)
        return await handler(request, sandbox)

    return endpoint


_ID_SEGMENT = re.compile(r"/\d+(?:,\d+)*(?=/|$)")


def endpoint_of(scope: Scope) -> str | None:
    """The name faults and counters use: `"PUT entity/Note"`, `"GET entity/Candidate/{id}/notes"`."""
    path = path_in_app(scope)
    if path.startswith(("/_sandbox", "/ats/")):
        return None
    parts = path.strip("/").split("/")
    if parts[0] == "rest-services" and len(parts) > 2:
        parts = parts[2:]
    elif parts[0] == "rest-services":
        parts = parts[1:]
    name = _ID_SEGMENT.sub("/{id}", "/" + "/".join(parts)).lstrip("/")
    return f"{scope['method']} {name}"


def create_bullhorn_app(data: DemoData | None = None, config: BullhornSandboxConfig | None = None) -> Starlette:
    from sandbox.bullhorn_inspect import inspect_routes
    from sandbox.bullhorn_notes import note_routes
    from sandbox.bullhorn_records import record_routes
    from sandbox.bullhorn_search import search_routes
    from sandbox.openwindow import open_window

    if data is None:
        from sandbox.demo_data import build_demo_data

        data = build_demo_data()
    sandbox = BullhornSandbox(data, config or BullhornSandboxConfig())
    rest: list[BaseRoute] = [*session_routes(sandbox), *search_routes(sandbox), *note_routes(sandbox),
                             *record_routes(sandbox), *event_routes(sandbox)]
    routes: list[BaseRoute] = [
        *auth_routes(sandbox),
        Mount("/rest-services/{corp_token}", routes=rest),
        Route("/ats/BullhornSTAFFING/OpenWindow.cfm", bind(sandbox, open_window, session=False)),
        Mount("/_sandbox", routes=inspect_routes(sandbox)),
    ]
    app = Starlette(routes=routes, exception_handlers={BullhornError: handle_bullhorn_error})
    app.state.sandbox = sandbox
    app.add_middleware(
        FaultMiddleware,
        injector=lambda: sandbox.faults,
        endpoint_of=endpoint_of,
        error_response=error_response,
        rate_limited_response=rate_limited_response,
    )
    return app
