"""Writing a call's one Bullhorn Note exactly once (DESIGN §4 "Idempotency").

Bullhorn has no idempotency key, so the store carries one: `write_intent_at` is committed before
the `PUT entity/Note` and cleared with its answer. An attempt that finds it still set cannot know
whether its predecessor's PUT landed, so it first looks for the note by `externalID` among the
person's notes and adopts it if there. Once a note id is known, later changes go to the same note
as the minimal `POST entity/Note/{id}`, and only when something changed. Every Bullhorn call made
here leaves one `attempts` row (without personal data beyond record ids).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from sqlalchemy import Engine

from insight.domain.notes import PersonRef, body_hash, external_id, note_update
from insight.store import queue
from insight.store.queue import ClaimedCall
from insight.store.tables import utcnow
from insight.upstream.bullhorn.client import CreateResult
from insight.upstream.errors import UpstreamError, UpstreamRejected

T = TypeVar("T")
#: notes per page when looking for a note among a person's notes
RECONCILE_PAGE = 200
#: a switchboard contact may hold thousands of notes; newer than the call is all that needs reading
RECONCILE_MAX_PAGES = 10


class NoteApi(Protocol):
    async def create_note(self, body: Mapping[str, Any]) -> CreateResult: ...

    async def update_note(self, note_id: int, body: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    async def person_notes(self, entity: str, person_id: int, *, fields: str = ..., count: int = ...,
                           start: int = ..., order_by: str = ...) -> list[dict[str, Any]]: ...


class LeaseLost(Exception):
    """Another worker took the call over (this one's lease ran out): stop without writing anything."""


@dataclass
class Written:
    note_id: int | None = None
    #: what this sync sent: "created", "updated", "adopted", or nothing when the note was up to date
    actions: list[str] = field(default_factory=list)
    #: Bullhorn `messages` (WARNINGs arrive with HTTP 200)
    warnings: list[dict[str, Any]] = field(default_factory=list)


class NoteWriter:
    def __init__(self, engine: Engine, bullhorn: NoteApi, *, worker_id: str) -> None:
        self._engine = engine
        self._bullhorn = bullhorn
        self._worker_id = worker_id

    async def write(self, claim: ClaimedCall, person: PersonRef, body: Mapping[str, Any],
                    *, started_at_ms: int | None, update: bool = True) -> Written:
        """Make Bullhorn's note of `claim` equal `body` (about `person` when it must be created).

        `update=False` (write-once mode) creates the note or adopts the one a lost answer left, and never
        edits it, even when the adopted note differs from `body`.
        """
        written = Written(note_id=claim.note_id)
        previous: Mapping[str, Any] = claim.synced_body_json or {}
        if written.note_id is None and claim.write_intent_at is not None:
            intended = _person_of(claim) or person
            found = await self._reconcile(claim.call_id, intended, started_at_ms)
            if found is not None:
                written.note_id, person = found, intended
                written.actions.append("adopted")
                await self._record(claim.call_id, found, person, previous)
        if written.note_id is None:
            await self._create(claim.call_id, person, body, written)
            return written
        changes = note_update(previous, body) if update else {}
        if changes:
            note_id = written.note_id
            summary = f"POST entity/Note/{note_id} fields={','.join(sorted(changes))}"
            messages = await self._attempt(claim.call_id, "update", summary,
                                           lambda: self._bullhorn.update_note(note_id, changes))
            written.warnings.extend(messages)
            written.actions.append("updated")
            await self._record(claim.call_id, note_id, _person_of(claim) or person, body)
        return written

    async def _create(self, call_id: int, person: PersonRef, body: Mapping[str, Any], written: Written) -> None:
        marked = await anyio.to_thread.run_sync(lambda: queue.mark_write_intent(
            self._engine, call_id, worker_id=self._worker_id, person_entity=person.entity, person_id=person.id,
            body=body))
        if not marked:
            raise LeaseLost(call_id)
        summary = (f"PUT entity/Note personReference={person.entity}#{person.id} "
                   f"commentingPerson={_id_of(body.get('commentingPerson'))} externalID={external_id(call_id)}")
        try:
            result = await self._attempt(call_id, "create", summary, lambda: self._bullhorn.create_note(body))
        except UpstreamRejected:
            # refused outright: nothing was written, so the next attempt need not look for it
            await anyio.to_thread.run_sync(
                lambda: queue.clear_write_intent(self._engine, call_id, worker_id=self._worker_id))
            raise
        written.note_id = result.id
        written.warnings.extend(result.messages)
        written.actions.append("created")
        await self._record(call_id, result.id, person, body)

    async def _reconcile(self, call_id: int, person: PersonRef, started_at_ms: int | None) -> int | None:
        wanted = external_id(call_id)
        summary = f"GET entity/{person.entity}/{person.id}/notes fields=id,externalID,dateAdded"

        async def search() -> int | None:
            for page in range(RECONCILE_MAX_PAGES):
                notes = await self._bullhorn.person_notes(person.entity, person.id, fields="id,externalID,dateAdded",
                                                          count=RECONCILE_PAGE, start=page * RECONCILE_PAGE,
                                                          order_by="-dateAdded")
                for note in notes:
                    if note.get("externalID") == wanted and isinstance(note.get("id"), int):
                        return int(note["id"])
                oldest = notes[-1].get("dateAdded") if notes else None
                # newest first: once past the call's start, our note (dateAdded = call start) is not further on
                if len(notes) < RECONCILE_PAGE or (started_at_ms is not None and isinstance(oldest, int)
                                                   and oldest < started_at_ms):
                    return None
            return None

        return await self._attempt(call_id, "reconcile", summary, search,
                                   outcome=lambda found: "found" if found is not None else "not_found")

    async def _record(self, call_id: int, note_id: int, person: PersonRef, body: Mapping[str, Any]) -> None:
        recorded = await anyio.to_thread.run_sync(lambda: queue.record_note(
            self._engine, call_id, worker_id=self._worker_id, note_id=note_id, person_entity=person.entity,
            person_id=person.id, body=body, body_hash=body_hash(body)))
        if not recorded:
            raise LeaseLost(call_id)

    async def _attempt(self, call_id: int, kind: str, summary: str, call: Callable[[], Awaitable[T]],
                       outcome: Callable[[T], str] = lambda _: "ok") -> T:
        started_at, started = utcnow(), time.perf_counter()
        try:
            result = await call()
        except UpstreamError as error:
            await self._log_attempt(call_id, kind, started_at, summary, "error", error)
            raise
        took_ms = (time.perf_counter() - started) * 1000
        await self._log_attempt(call_id, kind, started_at, f"{summary} ({took_ms:.0f} ms)", outcome(result), None)
        return result

    async def _log_attempt(self, call_id: int, kind: str, started_at: Any, summary: str, outcome: str,
                           error: UpstreamError | None) -> None:
        await anyio.to_thread.run_sync(lambda: queue.record_attempt(
            self._engine, call_id, kind=kind, started_at=started_at, outcome=outcome, request_summary=summary,
            status_code=error.status_code if error else 200, error=type(error).__name__ if error else None,
            explanation=error.explanation if error else None))


def _person_of(claim: ClaimedCall) -> PersonRef | None:
    if claim.note_person_entity in ("Candidate", "ClientContact") and claim.note_person_id is not None:
        return PersonRef(claim.note_person_entity, claim.note_person_id)  # type: ignore[arg-type]
    return None


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else None
