"""Writing one Bullhorn Note exactly once: a call's, or an SMS conversation's day (DESIGN §4 "Idempotency", §12).

Bullhorn has no idempotency key, so the store carries one: `write_intent_at` is committed before
the `PUT entity/Note` and cleared with its answer. An attempt that finds it still set cannot know
whether its predecessor's PUT landed, so it first looks for the note by `externalID` among the
person's notes and adopts it if there. Once a note id is known, later changes go to the same note
as the minimal `POST entity/Note/{id}`, and only when something changed. Every Bullhorn call made
here leaves one attempt record (without personal data beyond record ids). The row that carries all this
is the ledger's business (`insight.store.note_ledgers`): a call's in `calls`, a conversation's in
`conversations`; the algorithm is this one for both.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import anyio.to_thread
from sqlalchemy import Engine

from insight.domain.notes import PersonRef, note_update
from insight.store.conversations import ClaimedConversation
from insight.store.note_ledgers import CallNoteLedger, ConversationNoteLedger, NoteAttempt
from insight.store.queue import ClaimedCall
from insight.store.tables import utcnow
from insight.upstream.bullhorn.client import CreateResult
from insight.upstream.errors import UpstreamError, UpstreamRejected

T = TypeVar("T")
#: notes per page when looking for a note among a person's notes
RECONCILE_PAGE = 200
#: a switchboard contact may hold thousands of notes; newer than the call is all that needs reading
RECONCILE_MAX_PAGES = 10


class NoteClaim(Protocol):
    """What a claimed row tells about its note (`ClaimedCall`, `ClaimedConversation`)."""

    @property
    def note_id(self) -> int | None: ...
    @property
    def note_person_entity(self) -> str | None: ...
    @property
    def note_person_id(self) -> int | None: ...
    @property
    def write_intent_at(self) -> datetime | None: ...
    @property
    def synced_body_json(self) -> Mapping[str, Any] | None: ...


C = TypeVar("C", bound=NoteClaim)
C_contra = TypeVar("C_contra", bound=NoteClaim, contravariant=True)


class NoteLedger(Protocol[C_contra]):
    """Where the note's bookkeeping lives (`insight.store.note_ledgers`); writes answer False once the lease is lost."""

    def external_id(self, claim: C_contra) -> str: ...
    def mark_intent(self, claim: C_contra, person: PersonRef, body: Mapping[str, Any]) -> bool: ...
    def clear_intent(self, claim: C_contra) -> bool: ...
    def record_note(self, claim: C_contra, note_id: int, person: PersonRef, body: Mapping[str, Any]) -> bool: ...
    def record_attempt(self, claim: C_contra, attempt: NoteAttempt) -> None: ...


class NoteApi(Protocol):
    async def create_note(self, body: Mapping[str, Any]) -> CreateResult: ...

    async def update_note(self, note_id: int, body: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    async def person_notes(self, entity: str, person_id: int, *, fields: str = ..., count: int = ...,
                           start: int = ..., order_by: str = ...) -> list[dict[str, Any]]: ...


class LeaseLost(Exception):
    """Another worker took the call or conversation over (this one's lease ran out): stop without writing anything."""


@dataclass
class Written:
    note_id: int | None = None
    #: what this sync sent: "created", "updated", "adopted", or nothing when the note was up to date
    actions: list[str] = field(default_factory=list)
    #: Bullhorn `messages` (WARNINGs arrive with HTTP 200)
    warnings: list[dict[str, Any]] = field(default_factory=list)


class NoteWriter(Generic[C]):
    def __init__(self, bullhorn: NoteApi, ledger: NoteLedger[C]) -> None:
        self._bullhorn = bullhorn
        self._ledger = ledger

    async def write(self, claim: C, person: PersonRef, body: Mapping[str, Any],
                    *, started_at_ms: int | None, update: bool = True) -> Written:
        """Make Bullhorn's note of `claim` equal `body` (about `person` when it must be created).

        `started_at_ms` bounds the search for a note whose answer was lost: it cannot be older than that.
        `update=False` (write-once mode) creates the note or adopts the one a lost answer left, and never
        edits it, even when the adopted note differs from `body`.
        """
        written = Written(note_id=claim.note_id)
        previous: Mapping[str, Any] = claim.synced_body_json or {}
        if written.note_id is None and claim.write_intent_at is not None:
            intended = _person_of(claim) or person
            found = await self._reconcile(claim, intended, started_at_ms)
            if found is not None:
                written.note_id, person = found, intended
                written.actions.append("adopted")
                await self._record(claim, found, person, previous)
        if written.note_id is None:
            await self._create(claim, person, body, written)
            return written
        changes = note_update(previous, body) if update else {}
        if changes:
            note_id = written.note_id
            summary = f"POST entity/Note/{note_id} fields={','.join(sorted(changes))}"
            messages = await self._attempt(claim, "update", summary,
                                           lambda: self._bullhorn.update_note(note_id, changes))
            written.warnings.extend(messages)
            written.actions.append("updated")
            await self._record(claim, note_id, _person_of(claim) or person, body)
        return written

    async def _create(self, claim: C, person: PersonRef, body: Mapping[str, Any], written: Written) -> None:
        await self._fenced(lambda: self._ledger.mark_intent(claim, person, body))
        summary = (f"PUT entity/Note personReference={person.entity}#{person.id} "
                   f"commentingPerson={_id_of(body.get('commentingPerson'))} "
                   f"externalID={self._ledger.external_id(claim)}")
        try:
            result = await self._attempt(claim, "create", summary, lambda: self._bullhorn.create_note(body))
        except UpstreamRejected:
            # refused outright: nothing was written, so the next attempt need not look for it
            await anyio.to_thread.run_sync(lambda: self._ledger.clear_intent(claim))
            raise
        written.note_id = result.id
        written.warnings.extend(result.messages)
        written.actions.append("created")
        await self._record(claim, result.id, person, body)

    async def _reconcile(self, claim: C, person: PersonRef, started_at_ms: int | None) -> int | None:
        wanted = self._ledger.external_id(claim)
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
                # newest first: once past the note's earliest possible date, our note is not further on
                if len(notes) < RECONCILE_PAGE or (started_at_ms is not None and isinstance(oldest, int)
                                                   and oldest < started_at_ms):
                    return None
            return None

        return await self._attempt(claim, "reconcile", summary, search,
                                   outcome=lambda found: "found" if found is not None else "not_found")

    async def _record(self, claim: C, note_id: int, person: PersonRef, body: Mapping[str, Any]) -> None:
        await self._fenced(lambda: self._ledger.record_note(claim, note_id, person, body))

    async def _fenced(self, write: Callable[[], bool]) -> None:
        if not await anyio.to_thread.run_sync(write):
            raise LeaseLost()

    async def _attempt(self, claim: C, kind: str, summary: str, call: Callable[[], Awaitable[T]],
                       outcome: Callable[[T], str] = lambda _: "ok") -> T:
        started_at, started = utcnow(), time.perf_counter()
        try:
            result = await call()
        except UpstreamError as error:
            await self._log_attempt(claim, NoteAttempt(kind, started_at, summary, "error", error.status_code,
                                                       type(error).__name__, error.explanation))
            raise
        took_ms = (time.perf_counter() - started) * 1000
        await self._log_attempt(claim, NoteAttempt(kind, started_at, f"{summary} ({took_ms:.0f} ms)",
                                                   outcome(result), 200))
        return result

    async def _log_attempt(self, claim: C, attempt: NoteAttempt) -> None:
        await anyio.to_thread.run_sync(lambda: self._ledger.record_attempt(claim, attempt))


def call_note_writer(engine: Engine, bullhorn: NoteApi, *, worker_id: str) -> NoteWriter[ClaimedCall]:
    """The writer of calls' notes, kept in `calls` (its attempts in `attempts`)."""
    return NoteWriter(bullhorn, CallNoteLedger(engine, worker_id=worker_id))


def conversation_note_writer(engine: Engine, bullhorn: NoteApi, *,
                             worker_id: str) -> NoteWriter[ClaimedConversation]:
    """The writer of SMS conversations' notes, kept in `conversations` (its attempts logged)."""
    return NoteWriter(bullhorn, ConversationNoteLedger(engine, worker_id=worker_id))


def _person_of(claim: NoteClaim) -> PersonRef | None:
    if claim.note_person_entity in ("Candidate", "ClientContact") and claim.note_person_id is not None:
        return PersonRef(claim.note_person_entity, claim.note_person_id)  # type: ignore[arg-type]
    return None


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else None
