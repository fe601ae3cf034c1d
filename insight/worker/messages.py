"""Writing each conversation's one Bullhorn note per person, line and UTC day (DESIGN §12 "Messages").

The worker claims due conversations (`insight.store.conversations`), matches the customer's number
with the same lookup as calls, and writes the note with the calls' note writer
(`insight.worker.note_writer`, its bookkeeping in the conversation's row): exactly once, later
messages as the minimal `POST entity/Note/{id}` to the same note, nothing sent when nothing changed
(a redelivered message).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine

from insight.domain.conversations import compose_sms_note, first_outbound_agent, once_write_at
from insight.domain.matching import Match, MatchJsonError
from insight.domain.notes import PersonEntity, PersonRef, note_update
from insight.domain.retry_policy import RetryPolicy
from insight.lookup.service import LookupService
from insight.store import conversations as store
from insight.store.conversations import ClaimedConversation
from insight.store.queue import Finish
from insight.store.tables import utcnow
from insight.upstream.errors import UpstreamRejected, UpstreamUnavailable
from insight.worker.authors import AuthorDirectory
from insight.worker.drain import Drain, settle
from insight.worker.note_writer import LeaseLost, NoteApi, conversation_note_writer
from shared.logs import mask_phone
from shared.note_settings import default_action_for
from shared.settings import Settings
from shared.states import SyncState
from shared.timefmt import iso_utc

log = logging.getLogger("callbridge.messages")

POLL_DELAY_S = 1.0
#: SMS are few next to calls, so they are synced one at a time (each claimed just before its sync)
IN_FLIGHT = 1
_PEOPLE: tuple[PersonEntity, ...] = ("Candidate", "ClientContact")


def sms_action(settings: Settings) -> str | None:
    """The note action of SMS notes: CALLBRIDGE_DEFAULT_ACTIONS' `sms=`, else CALLBRIDGE_DEFAULT_ACTION."""
    return default_action_for("sms", settings.default_actions, settings.default_action)


class MessageWorker:
    """Claims due conversations, writes their notes, records the outcome (`run_once` for tests).

    The loop (claims, lease renewal, stop) is the call worker's (`insight.worker.drain`); so is the note
    writer (`insight.worker.note_writer`), its bookkeeping in the conversation's row.
    """

    def __init__(self, *, engine: Engine, bullhorn: NoteApi, lookup: LookupService, authors: AuthorDirectory,
                 settings: Settings, policy: RetryPolicy | None = None, worker_id: str | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:sms-{uuid.uuid4().hex[:6]}"
        self._engine = engine
        self._bullhorn = bullhorn
        self._lookup = lookup
        self._authors = authors
        self._settings = settings
        self._policy = policy or RetryPolicy(max_attempts=settings.max_attempts)
        self._clock = clock
        self._writer = conversation_note_writer(engine, bullhorn, worker_id=self.worker_id)
        self._drain = Drain(name=f"message worker {self.worker_id}", claim=self._claim, key=lambda claim: claim.id,
                            extend=self._extend, process=self._process, lease_s=settings.worker_lease_s,
                            in_flight=IN_FLIGHT, clock=clock)

    async def run_once(self) -> dict[str, int]:
        """Sync every conversation due now (and whatever becomes due meanwhile); the outcome counts."""
        counts: dict[str, int] = {}
        await self._drain.drain(counts, stop=None)
        return counts

    async def run(self, stop: asyncio.Event, *, poll_delay_s: float = POLL_DELAY_S) -> None:
        await self._drain.run(stop, {}, poll_delay_s=poll_delay_s)

    def _claim(self, now: datetime, limit: int) -> list[ClaimedConversation]:
        return store.claim_due(self._engine, worker_id=self.worker_id, now=now,
                               lease_s=self._settings.worker_lease_s, limit=limit)

    def _extend(self, conversation_ids: Sequence[int], until: datetime) -> int:
        return store.extend_leases(self._engine, conversation_ids, worker_id=self.worker_id, until=until)

    async def _process(self, claim: ClaimedConversation) -> str:
        try:
            outcome = await self._sync(claim)
        except LeaseLost:
            return "skipped"
        except Exception as error:  # a bug must not stop the worker; the conversation is retried, then dead
            log.exception("syncing conversation %s failed unexpectedly", claim.id)
            outcome = Finish(SyncState.retrying, f"callbridge failed unexpectedly ({type(error).__name__}); "
                                                 "it will be retried, and a bug report helps")
        label, result = settle(self._policy, claim.attempt_count, outcome, self._clock())
        finished = await asyncio.shield(anyio.to_thread.run_sync(lambda: store.finish(
            self._engine, claim.id, worker_id=self.worker_id, snapshot_message_id=claim.last_message_id,
            status=result.status, explanation=result.explanation, attempt_count=result.attempt_count,
            next_attempt_at=result.next_attempt_at, columns=result.columns or {})))
        return label if finished else "skipped"

    async def _sync(self, claim: ClaimedConversation) -> Finish:
        columns: dict[str, Any] = {}
        explanation: str | None = None
        if claim.phone_e164 is None:
            return Finish(SyncState.unmatched, f"Aircall's number {claim.number!r} is not a phone number callbridge "
                           "can read (a short code or a sender name?), so nobody could be looked up")
        once = self._settings.note_mode == "once"
        write_at = once_write_at(claim.day, self._settings.note_settle_s) if once else None
        if claim.note_id is None and write_at is not None and self._clock() < write_at:
            return Finish(SyncState.pending, "Write-once mode: the day's note is written once, after the UTC day "
                          f"ends (at {iso_utc(write_at)})", next_attempt_at=write_at)
        try:
            others: list[PersonRef] = []  # associations are set at create only (notes.UPDATABLE_FIELDS)
            if claim.note_id is not None:
                person = _stored_person(claim)
            else:
                matches = await self._matches(claim, columns)
                if not matches:
                    return Finish(SyncState.unmatched, f"No live Bullhorn Candidate or Contact has "
                                  f"{mask_phone(claim.phone_e164)}; the conversation is kept: add the number to a "
                                  "record (or create one from a call) and it is logged", columns=columns)
                person, *others = (PersonRef("Candidate" if match.entity == "Candidate" else "ClientContact", match.id)
                                   for match in matches)
            messages = await anyio.to_thread.run_sync(lambda: store.messages_of(self._engine, claim.id))
            author = await self._authors.author_for(first_outbound_agent(messages))
            action = sms_action(self._settings)
            body = compose_sms_note(line_id=claim.line_id, line_name=claim.line_name, line_digits=claim.line_digits,
                                    number=claim.number, day=claim.day, messages=messages, person=person,
                                    author_id=author.user_id, action=action, others=others,
                                    max_associated=self._settings.max_associated)
            columns["action"] = action
            await self._writer.write(claim, person, body, started_at_ms=_day_start_ms(claim.day), update=not once)
            if once and claim.note_id is not None and note_update(claim.synced_body_json or {}, body):
                explanation = ("Write-once mode: messages arrived after the day's note was written; they are kept "
                               "here (see the messages) but not in Bullhorn, whose API user may not edit notes")
            if author.fallback and first_outbound_agent(messages):
                explanation = ("Synced, but the agent has no Bullhorn user with the same e-mail: the note was written "
                               "by the default user")
        except UpstreamUnavailable as error:
            return Finish(SyncState.retrying, error.explanation, columns=columns, retry_after_s=error.retry_after_s)
        except UpstreamRejected as error:
            return Finish(SyncState.failed, error.explanation, columns=columns)
        except MatchJsonError as error:
            return Finish(SyncState.failed, f"callbridge cannot read the match it stored: {error} (a bug: report it)",
                          columns=columns)
        return Finish(SyncState.synced, explanation, columns=columns)

    async def _matches(self, claim: ClaimedConversation, columns: dict[str, Any]) -> list[Match]:
        assert claim.phone_e164 is not None
        if not claim.rematch and isinstance(claim.match_json, Mapping):
            stored = [Match.from_json(row) for row in claim.match_json.get("matches") or []]
            if stored:
                return [match for match in stored if match.entity in _PEOPLE]
        # Searched afresh, not from this process's "no match" cache: the web may have created the record a
        # moment ago (DESIGN §12), and an unmatched conversation is synced only when a message arrives.
        self._lookup.forget(claim.phone_e164)
        found = await self._lookup.lookup(claim.phone_e164)
        matches = [match for match in found.matches if match.entity in _PEOPLE]
        columns["match_json"] = {"matches": [match.to_json() for match in matches],
                                 "looked_up_at": found.looked_up_at.isoformat()}
        return matches


def _day_start_ms(day: str) -> int | None:
    """Midnight UTC of the conversation's day: its note (dated by its first message) is not older."""
    try:
        return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        return None


def _stored_person(claim: ClaimedConversation) -> PersonRef:
    entity: PersonEntity = "ClientContact" if claim.note_person_entity == "ClientContact" else "Candidate"
    return PersonRef(entity, claim.note_person_id or 0)


async def run_messages(settings: Settings, engine: Engine, bullhorn: NoteApi, lookup: LookupService,
                       authors: AuthorDirectory, *, stop: asyncio.Event) -> None:
    """The worker process's message loop; returns at once when CALLBRIDGE_MESSAGES=0."""
    if not settings.messages:
        return
    await MessageWorker(engine=engine, bullhorn=bullhorn, lookup=lookup, authors=authors,
                        settings=settings).run(stop)
