"""Sync one claimed call: reduce its events, decide, and have its note written (DESIGN §4, §6).

The decisions are pure (`reduce_call`, `choose_action`, `compose_note`, the explanations below);
the I/O is the store, the lookup, the author directory and `NoteWriter`. Errors become outcomes:
`UpstreamUnavailable` a retry, `UpstreamRejected` a `failed` call with Bullhorn's refusal in plain
words; the worker applies the retry policy and writes the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine

from insight.domain.actions import choose_action
from insight.domain.aircall_events import InvalidPayload, NotJSON, parse_envelope
from insight.domain.call_summary import call_summary
from insight.domain.callstate import CallState, reduce_call
from insight.domain.callstate_json import state_to_json
from insight.domain.matching import Match, MatchJsonError
from insight.domain.notes import PersonEntity, PersonRef, compose_note, is_shared_number
from insight.domain.phones import normalize
from insight.lookup.service import LookupService
from insight.store import queue
from insight.store.events import StoredEvent, events_for_call
from insight.store.intake_batch import ENDED_EVENT
from insight.store.queue import ClaimedCall, Finish
from insight.store.tables import utcnow
from insight.upstream.errors import UpstreamRejected, UpstreamUnavailable
from insight.worker.authors import AuthorDirectory
from insight.worker.job_link import JobLink, JobLinker
from insight.worker.note_writer import NoteApi, NoteWriter
from shared.logs import mask_phone
from shared.settings import Settings
from shared.states import SyncState
from shared.timefmt import iso_utc

log = logging.getLogger("callbridge.sync")

_PEOPLE: tuple[PersonEntity, ...] = ("Candidate", "ClientContact")


class CallSyncer:
    def __init__(self, *, engine: Engine, bullhorn: NoteApi, lookup: LookupService, authors: AuthorDirectory,
                 settings: Settings, worker_id: str, clock: Callable[[], datetime] = utcnow,
                 jobs: JobLinker | None = None) -> None:
        self._engine = engine
        self._lookup = lookup
        self._authors = authors
        self._settings = settings
        self._clock = clock
        self._writer = NoteWriter(engine, bullhorn, worker_id=worker_id)
        self._jobs = jobs

    async def sync(self, claim: ClaimedCall) -> Finish:
        """Bring the call's note up to date; `LeaseLost` propagates (the call is someone else's now)."""
        stored = await anyio.to_thread.run_sync(lambda: events_for_call(self._engine, claim.call_id))
        state = _reduce(stored)
        if state is None:
            return Finish(SyncState.failed, "callbridge has no readable event for this call (a bug: report it)")
        raw = state.raw_digits
        e164 = normalize(raw, self._settings.default_region) if raw and _dialable(raw) else None
        choice = choose_action(state, default_action=self._settings.default_action)
        columns: dict[str, Any] = {**call_summary(state), "state_json": state_to_json(state), "phone_e164": e164,
                                   "action": choice.action}
        flags: dict[str, Any] = {
            "shared_number": False, "match_count": 0, "author_fallback": False, "warnings": [],
            "skipped_tags": [{"tag": skipped.tag, "problem": skipped.problem} for skipped in choice.skipped],
        }
        columns["flags_json"] = flags
        if not state.is_over:
            return Finish(SyncState.pending, columns=columns)
        settled_at = self._settled_at(stored)
        if claim.note_id is None and claim.write_intent_at is None and settled_at > self._clock():
            return Finish(SyncState.pending, columns=columns, next_attempt_at=settled_at)
        rematched = False
        try:
            if claim.note_id is not None:
                person = _stored_person(claim)
                others: Sequence[PersonRef] = ()
                flags["match_count"] = len(_card_matches(claim.match_json))
            else:
                matches, rematched = await self._matches(claim, e164, columns)
                flags["match_count"] = len(matches)
                if not matches:
                    return Finish(SyncState.unmatched, _no_match(state.raw_digits, e164), columns=columns,
                                  rematched=rematched)
                person, others = _ref(matches[0]), [_ref(match) for match in matches[1:]]
            flags["shared_number"] = is_shared_number(flags["match_count"], self._settings.max_associated)
            author = await self._authors.author_for(state.agent.email if state.agent else None)
            flags["author_fallback"] = author.fallback
            body = compose_note(state, person=person, others=others, author_id=author.user_id,
                                action=choice.action, max_associated=self._settings.max_associated)
            body = await self._job_link(claim, person, body, flags)
            started_ms = state.started_at * 1000 if state.started_at is not None else None
            written = await self._writer.write(claim, person, body, started_at_ms=started_ms)
        except UpstreamUnavailable as error:
            return Finish(SyncState.retrying, error.explanation, columns=columns,
                          retry_after_s=error.retry_after_s, rematched=rematched)
        except UpstreamRejected as error:
            return Finish(SyncState.failed, error.explanation, columns=columns, rematched=rematched)
        except MatchJsonError as error:
            return Finish(SyncState.failed, f"callbridge cannot read the match it stored for this call: {error} "
                          "(a bug: report it)", columns=columns, rematched=rematched)
        flags["warnings"] = [_warning(message) for message in written.warnings]
        return Finish(SyncState.synced, _synced_note(written.actions, flags), columns=columns,
                      rematched=rematched)

    async def _job_link(self, claim: ClaimedCall, person: PersonRef, body: dict[str, Any],
                        flags: dict[str, Any]) -> dict[str, Any]:
        """The note linked to the candidate's one active job (DESIGN §13); set once, when the note is created."""
        if self._jobs is None:
            return body
        if claim.note_id is not None:
            # the link is not updatable; keep what the note was written with
            previous = (claim.synced_body_json or {}).get("jobOrder")
            job_id = previous.get("id") if isinstance(previous, Mapping) else None
            if isinstance(job_id, int):
                body["jobOrder"] = {"id": job_id}
                kept = JobLink(job_id, None, f"Linked to job #{job_id} when the note was written")
                flags["job_link"] = kept.as_flag()
            return body
        link = await self._jobs.link_for(person)
        if link.job_id is not None:
            body["jobOrder"] = {"id": link.job_id}
        flags["job_link"] = link.as_flag()
        return body

    def _settled_at(self, stored: Sequence[StoredEvent]) -> datetime:
        ended = [event.received_at for event in stored if event.event == ENDED_EVENT]
        first = min(ended) if ended else self._clock()
        return first + timedelta(seconds=self._settings.note_settle_s)

    async def _matches(self, claim: ClaimedCall, e164: str | None,
                       columns: dict[str, Any]) -> tuple[list[Match], bool]:
        if e164 is None:
            return [], claim.rematch
        if not claim.rematch:
            from_card = _card_matches(claim.match_json)
            if from_card:
                return from_card, False
        if claim.rematch:
            self._lookup.forget(e164)
        started_at = utcnow()
        summary = f"search Candidate,ClientContact phone fields for {mask_phone(e164)}"
        try:
            found = await self._lookup.lookup(e164)
        except (UpstreamUnavailable, UpstreamRejected) as error:
            await self._attempt_row(claim.call_id, started_at, summary, "error", error.status_code, error.explanation)
            raise
        if not found.cached:
            await self._attempt_row(claim.call_id, started_at, summary, f"{len(found.matches)} match(es)", 200, None)
        matches = [match for match in found.matches if match.entity in _PEOPLE]
        columns["match_json"] = {"matches": [match.to_json() for match in matches],
                                 "looked_up_at": iso_utc(found.looked_up_at)}
        return matches, claim.rematch

    async def _attempt_row(self, call_id: int, started_at: datetime, summary: str, outcome: str,
                           status_code: int | None, explanation: str | None) -> None:
        await anyio.to_thread.run_sync(lambda: queue.record_attempt(
            self._engine, call_id, kind="match", started_at=started_at, outcome=outcome, request_summary=summary,
            status_code=status_code, explanation=explanation))


def _reduce(stored: Sequence[StoredEvent]) -> CallState | None:
    envelopes = []
    for event in stored:
        try:
            envelopes.append(parse_envelope(event.payload))
        except (NotJSON, InvalidPayload):
            log.warning("stored event %s of call %s no longer parses; skipped", event.id, event.call_id)
    try:
        return reduce_call(envelopes)
    except ValueError:
        return None


def _dialable(raw_digits: str | None) -> bool:
    return bool(raw_digits) and raw_digits != "anonymous"


def _no_match(raw_digits: str | None, e164: str | None) -> str:
    if not _dialable(raw_digits):
        return ("The caller withheld their number (anonymous), so there is no Bullhorn record to log this call on; "
                "nothing to fix unless you know who it was")
    if e164 is None:
        return (f"Aircall's number {raw_digits!r} is not a phone number callbridge can read, so nobody could be "
                "looked up; check CALLBRIDGE_DEFAULT_REGION")
    return (f"No live Bullhorn Candidate or Contact has {mask_phone(e164)}; add the number to the record "
            "and press Retry")


def _card_matches(match_json: Mapping[str, Any] | None) -> list[Match]:
    """The people the card found; `MatchJsonError` when the stored matches have another shape."""
    rows = match_json.get("matches") if isinstance(match_json, Mapping) else None
    matches = (Match.from_json(row) for row in (rows if isinstance(rows, list) else []))
    return [match for match in matches if match.entity in _PEOPLE]


def _ref(match: Match) -> PersonRef:
    entity: PersonEntity = "Candidate" if match.entity == "Candidate" else "ClientContact"
    return PersonRef(entity, match.id)


def _stored_person(claim: ClaimedCall) -> PersonRef:
    entity: PersonEntity = "ClientContact" if claim.note_person_entity == "ClientContact" else "Candidate"
    return PersonRef(entity, claim.note_person_id or 0)


def _warning(message: Mapping[str, Any]) -> str:
    detail = message.get("detailMessage") or message.get("message") or message.get("type") or str(dict(message))
    prop = message.get("propertyName")
    return f"{detail} ({prop})" if prop else str(detail)


def _synced_note(actions: Sequence[str], flags: Mapping[str, Any]) -> str | None:
    notes = []
    if flags.get("shared_number"):
        notes.append(f"the number belongs to {flags['match_count']} records, so the note is on the best match only")
    if flags.get("warnings"):
        notes.append("Bullhorn accepted the note with warnings: " + "; ".join(flags["warnings"]))
    return ("Synced, but " + " and ".join(notes)) if notes else None
