"""Where the one-note writer keeps its bookkeeping: a call's row in `calls`, or a conversation's in `conversations`.

Both ledgers hold the same facts for their note (the write intent, the note id, its person, the body
Bullhorn holds) and fence every write on the worker's lease: a method answers False when the row is
no longer this worker's, and the writer then stops (`insight.worker.note_writer`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from insight.domain.conversations import sms_external_id
from insight.domain.notes import PersonRef, body_hash, external_id
from insight.store import conversations, queue
from insight.store.conversations import ClaimedConversation
from insight.store.queue import ClaimedCall
from insight.store.tables import utcnow

log = logging.getLogger("callbridge.messages")


@dataclass(frozen=True)
class NoteAttempt:
    """One Bullhorn request of the writer (create, update, reconcile), without personal data beyond record ids."""

    kind: str
    started_at: datetime
    summary: str
    outcome: str
    status_code: int | None
    error: str | None = None
    explanation: str | None = None


class CallNoteLedger:
    """A call's note in its `calls` row; every attempt is an `attempts` row for the ops console."""

    def __init__(self, engine: Engine, *, worker_id: str) -> None:
        self._engine = engine
        self._worker_id = worker_id

    def external_id(self, claim: ClaimedCall) -> str:
        return external_id(claim.call_id)

    def mark_intent(self, claim: ClaimedCall, person: PersonRef, body: Mapping[str, Any]) -> bool:
        return queue.mark_write_intent(self._engine, claim.call_id, worker_id=self._worker_id,
                                       person_entity=person.entity, person_id=person.id, body=body)

    def clear_intent(self, claim: ClaimedCall) -> bool:
        return queue.clear_write_intent(self._engine, claim.call_id, worker_id=self._worker_id)

    def record_note(self, claim: ClaimedCall, note_id: int, person: PersonRef, body: Mapping[str, Any]) -> bool:
        return queue.record_note(self._engine, claim.call_id, worker_id=self._worker_id, note_id=note_id,
                                 person_entity=person.entity, person_id=person.id, body=body,
                                 body_hash=body_hash(body))

    def record_attempt(self, claim: ClaimedCall, attempt: NoteAttempt) -> None:
        queue.record_attempt(self._engine, claim.call_id, kind=attempt.kind, started_at=attempt.started_at,
                             outcome=attempt.outcome, request_summary=attempt.summary,
                             status_code=attempt.status_code, error=attempt.error, explanation=attempt.explanation)


class ConversationNoteLedger:
    """A conversation's note in its `conversations` row; attempts are log lines (there is no table for them)."""

    def __init__(self, engine: Engine, *, worker_id: str) -> None:
        self._engine = engine
        self._worker_id = worker_id

    def external_id(self, claim: ClaimedConversation) -> str:
        return sms_external_id(claim.line_id, claim.number, claim.day)

    def mark_intent(self, claim: ClaimedConversation, person: PersonRef, body: Mapping[str, Any]) -> bool:
        return self._fenced(claim, write_intent_at=utcnow(), note_person_entity=person.entity,
                            note_person_id=person.id, synced_body_json=dict(body))

    def clear_intent(self, claim: ClaimedConversation) -> bool:
        return self._fenced(claim, write_intent_at=None)

    def record_note(self, claim: ClaimedConversation, note_id: int, person: PersonRef,
                    body: Mapping[str, Any]) -> bool:
        return self._fenced(claim, note_id=note_id, note_person_entity=person.entity, note_person_id=person.id,
                            write_intent_at=None, synced_body_json=dict(body))

    def record_attempt(self, claim: ClaimedConversation, attempt: NoteAttempt) -> None:
        # the externalID holds the customer's number: the conversation id names the note instead
        summary = attempt.summary.replace(self.external_id(claim), f"<conversation {claim.id}>")
        log.info("SMS note %s of conversation %s: %s (HTTP %s%s)", attempt.kind, claim.id, attempt.outcome,
                 attempt.status_code, f", {attempt.error}" if attempt.error else "",
                 extra={"conversation_id": claim.id, "request_summary": summary,
                        "explanation": attempt.explanation})

    def _fenced(self, claim: ClaimedConversation, **values: Any) -> bool:
        return conversations.fenced(self._engine, claim.id, self._worker_id, **values)
