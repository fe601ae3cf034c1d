"""Sync one claimed call: reduce its events, decide, and have its note written (DESIGN §4, §6).

The decisions are pure (`reduce_call`, `choose_action`, `compose_note`, the explanations below);
the I/O is the store, the lookup, the author directory, `NoteWriter` and, for AI insights that arrived
without their content, Aircall (`insight.worker.ai_notes`). In write-once mode (DESIGN §12) the note
is written once when `insight.domain.write_once` says it is due, and later events are only listed.
Errors become outcomes: `UpstreamUnavailable` a retry, `UpstreamRejected` a `failed` call with
Bullhorn's refusal in plain words; the worker applies the retry policy and writes the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine

from insight.domain.actions import choose_action
from insight.domain.ai_insights import note_parts
from insight.domain.aircall_events import Envelope, InvalidPayload, NotJSON, parse_envelope
from insight.domain.call_summary import call_summary
from insight.domain.callstate import CallState, reduce_call
from insight.domain.callstate_json import state_to_json
from insight.domain.matching import Match, MatchJsonError
from insight.domain.notes import PersonEntity, PersonRef, compose_note, is_shared_number, note_comments
from insight.domain.phones import normalize
from insight.domain.write_once import late_entries, once_due_at
from insight.lookup.service import LookupService
from insight.store import queue
from insight.store.events import StoredEvent, events_for_call
from insight.store.intake_batch import ENDED_EVENT
from insight.store.queue import ClaimedCall, Finish
from insight.store.tables import utcnow
from insight.upstream.errors import UpstreamRejected, UpstreamUnavailable
from insight.worker.ai_notes import FETCH_RETRY_S, InsightApi, collect_ai
from insight.worker.authors import AuthorDirectory
from insight.worker.job_link import JobLink, JobLinker
from insight.worker.note_writer import NoteApi, call_note_writer
from shared.logs import mask_phone
from shared.note_settings import default_action_for
from shared.settings import Settings
from shared.states import SyncState
from shared.timefmt import iso_utc

log = logging.getLogger("callbridge.sync")

_PEOPLE: tuple[PersonEntity, ...] = ("Candidate", "ClientContact")
SUMMARY_EVENT = "summary.created"
#: Bullhorn refused to edit a note it let this API user create (DESIGN §12)
EDIT_REFUSED_ADVICE = ("Bullhorn lets this API user create notes but not edit them. Either ask a Bullhorn admin to "
                       "grant edit on Notes, or set CALLBRIDGE_NOTE_MODE=once: callbridge then writes each call's "
                       "note once, after the call has settled, and never edits it (anything later is listed on the "
                       "call instead)")


class CallSyncer:
    def __init__(self, *, engine: Engine, bullhorn: NoteApi, lookup: LookupService, authors: AuthorDirectory,
                 settings: Settings, worker_id: str, clock: Callable[[], datetime] = utcnow,
                 aircall: InsightApi | None = None, jobs: JobLinker | None = None) -> None:
        self._engine = engine
        self._aircall = aircall
        self._lookup = lookup
        self._authors = authors
        self._settings = settings
        self._clock = clock
        self._writer = call_note_writer(engine, bullhorn, worker_id=worker_id)
        self._jobs = jobs

    async def sync(self, claim: ClaimedCall) -> Finish:
        """Bring the call's note up to date; `LeaseLost` propagates (the call is someone else's now)."""
        stored = await anyio.to_thread.run_sync(lambda: events_for_call(self._engine, claim.call_id))
        parsed = _parse(stored)
        state = _reduce([envelope for envelope, _ in parsed])
        if state is None:
            if parsed:
                return Finish(SyncState.pending, "Only Aircall AI insights have arrived for this call so far; they "
                              "are kept and go into the note once the call's own events arrive")
            return Finish(SyncState.failed, "callbridge has no readable event for this call (a bug: report it)")
        raw = state.raw_digits
        e164 = normalize(raw, self._settings.default_region) if raw and _dialable(raw) else None
        choice = choose_action(state, default_action=default_action_for(
            state.call_type, self._settings.default_actions, self._settings.default_action))
        columns: dict[str, Any] = {**call_summary(state), "state_json": state_to_json(state), "phone_e164": e164,
                                   "action": choice.action}
        flags: dict[str, Any] = {
            "shared_number": False, "match_count": 0, "author_fallback": False, "warnings": [],
            "skipped_tags": [{"tag": skipped.tag, "problem": skipped.problem} for skipped in choice.skipped],
        }
        columns["flags_json"] = flags
        if not state.is_over:
            return Finish(SyncState.pending, columns=columns)
        once = self._settings.note_mode == "once"
        due_at = self._due_at(stored, once=once)
        if claim.note_id is None and claim.write_intent_at is None and due_at > self._clock():
            return Finish(SyncState.pending, columns=columns, next_attempt_at=due_at)
        if once and claim.note_id is not None:
            return self._written_once(claim, parsed, columns)
        ai = await collect_ai(claim.call_id, [envelope for envelope, _ in parsed], claim.ai_json, self._aircall,
                              self._settings.note_ai)
        columns["ai_json"] = ai.ai_json
        if once and ai.waiting is not None and claim.note_id is None and self._clock() < self._ai_deadline(stored):
            # the one write would miss an insight Aircall could not hand over yet: wait for it, within the bound
            retry_at = self._clock() + timedelta(seconds=ai.retry_after_s or FETCH_RETRY_S)
            return Finish(SyncState.pending, f"Waiting to write the note once: an AI insight could not be fetched "
                          f"from Aircall yet ({ai.waiting})", columns=columns, next_attempt_at=retry_at)
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
            extra = note_parts(ai.note, self._settings.note_ai, used_chars=len(note_comments(state)),
                               call_id=state.call_id, transcript_link=state.asset)
            body = compose_note(state, person=person, others=others, author_id=author.user_id,
                                action=choice.action, max_associated=self._settings.max_associated, extra_parts=extra)
            body = await self._job_link(claim, person, body, flags)
            started_ms = state.started_at * 1000 if state.started_at is not None else None
            written = await self._writer.write(claim, person, body, started_at_ms=started_ms, update=not once)
        except UpstreamUnavailable as error:
            return Finish(SyncState.retrying, error.explanation, columns=columns,
                          retry_after_s=error.retry_after_s, rematched=rematched)
        except UpstreamRejected as error:
            explanation = error.explanation
            if error.status_code == 403 and claim.note_id is not None:
                explanation = f"{explanation}. {EDIT_REFUSED_ADVICE}"
            return Finish(SyncState.failed, explanation, columns=columns, rematched=rematched)
        except MatchJsonError as error:
            return Finish(SyncState.failed, f"callbridge cannot read the match it stored for this call: {error} "
                          "(a bug: report it)", columns=columns, rematched=rematched)
        flags["warnings"] = [_warning(message) for message in written.warnings]
        if once and ("created" in written.actions or "adopted" in written.actions):
            # what this one write covered: every event read above; anything newer is late
            ai.ai_json["written_through_event_id"] = max(event.id for event in stored)
        if ai.waiting is not None and not once:
            retry_at = self._clock() + timedelta(seconds=ai.retry_after_s or FETCH_RETRY_S)
            return Finish(SyncState.pending, f"The note is written; an AI insight could not be fetched from Aircall "
                          f"yet ({ai.waiting}), so callbridge comes back for it", columns=columns,
                          next_attempt_at=retry_at, rematched=rematched)
        return Finish(SyncState.synced, _synced_note(written.actions, flags), columns=columns,
                      rematched=rematched)

    def _due_at(self, stored: Sequence[StoredEvent], *, once: bool) -> datetime:
        settled_at = self._settled_at(stored)
        if not once:
            return settled_at
        return once_due_at(ended_received_at=settled_at - timedelta(seconds=self._settings.note_settle_s),
                           settle_s=self._settings.note_settle_s, ai_wait_s=self._settings.note_ai_wait_s,
                           wants_summary="summary" in self._settings.note_ai,
                           has_summary=any(event.event == SUMMARY_EVENT for event in stored), now=self._clock())

    def _ai_deadline(self, stored: Sequence[StoredEvent]) -> datetime:
        return self._settled_at(stored) + timedelta(seconds=self._settings.note_ai_wait_s)

    def _written_once(self, claim: ClaimedCall, parsed: Sequence[tuple[Envelope, StoredEvent]],
                      columns: dict[str, Any]) -> Finish:
        """Write-once mode with the note written: nothing is sent; what came after the write is listed as late."""
        ai_json = dict(claim.ai_json or {})
        through = ai_json.get("written_through_event_id")
        newer = [(envelope, event.received_at) for envelope, event in parsed
                 if isinstance(through, int) and event.id > through]
        late = late_entries(newer, self._settings.note_ai)
        columns["ai_json"] = {**ai_json, "late": late}
        explanation = (f"{len(late)} update(s) arrived after the note was written; CALLBRIDGE_NOTE_MODE=once never "
                       "edits a note, so they are listed on the call only") if late else None
        return Finish(SyncState.synced, explanation, columns=columns)

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
        recorded = claim.match_json.get("pipeline") if isinstance(claim.match_json, Mapping) else None
        link = await self._jobs.link_for(person, recorded)
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


def _parse(stored: Sequence[StoredEvent]) -> list[tuple[Envelope, StoredEvent]]:
    parsed = []
    for event in stored:
        try:
            parsed.append((parse_envelope(event.payload), event))
        except (NotJSON, InvalidPayload):
            log.warning("stored event %s of call %s no longer parses; skipped", event.id, event.call_id)
    return parsed


def _reduce(envelopes: Sequence[Envelope]) -> CallState | None:
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
