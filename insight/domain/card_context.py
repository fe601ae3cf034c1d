"""What the recruiter needs before picking up (DESIGN §13): last contact, a colleague on the line, the pipeline.

Pure functions over plain data: the store's calls, Bullhorn's notes, submissions, placements and jobs
as Bullhorn's JSON gives them. `insight.lookup.context` does the I/O and the caching around them.

Which submission and placement statuses mean "ended" is tenant configuration Bullhorn does not
document (reference/bullhorn-next.md §2); the rules below take Bullhorn's default status lists.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from insight.domain.matching import ENTITY_ORDER, Match
from insight.domain.notes import EXTERNAL_ID_PREFIX
from shared.timefmt import iso_utc, moment_from_iso

ContactKind = Literal["call", "note", "sms"]

#: pipeline items shown; the rest are counted
MAX_PIPELINE_ITEMS = 3
#: a submission in one of these is over (Bullhorn's default jobResponseStatusList; compared ignoring case).
#: "Placed" continues as its Placement, which says itself whether it is still running.
ENDED_SUBMISSION_STATUSES = frozenset(
    {"placed", "client rejected", "candidate rejected", "sales rep rejected", "candidate not interested",
     "not interested", "withdrawn", "rejected", "closed"})
ENDED_PLACEMENT_STATUSES = frozenset({"completed", "terminated", "cancelled", "canceled", "ended"})
_SMS_PREFIX = "aircall-sms:"

#: fields the client asks for, shared with the sandbox tests
SUBMISSION_FIELDS = "id,status,dateAdded,isDeleted,jobOrder(id,title,isOpen,clientCorporation(id,name))"
PLACEMENT_FIELDS = "id,status,dateBegin,dateEnd,dateAdded,jobOrder(id,title,isOpen,clientCorporation(id,name))"
NOTE_FIELDS = "id,action,dateAdded,externalID,commentingPerson(id,firstName,lastName)"


@dataclass(frozen=True)
class LastContact:
    at: datetime
    #: the agent or Bullhorn user
    by: str | None
    kind: ContactKind
    action: str | None
    direction: str | None


@dataclass(frozen=True)
class PastCall:
    """A call of callbridge's store with the same number."""

    call_id: int
    at: datetime
    agent: str | None
    direction: str | None
    action: str | None


@dataclass(frozen=True)
class LiveCall:
    """A call in progress (not over) with the same number, made or answered by an agent."""

    call_id: int
    agent_email: str
    agent: str
    since: datetime


@dataclass(frozen=True)
class OnCall:
    agent: str
    since: datetime


@dataclass(frozen=True)
class PipelineItem:
    job_id: int
    title: str | None
    company: str | None
    status: str | None
    #: epoch ms: submission added, or placement begun; newest first
    date: int


@dataclass(frozen=True)
class Pipeline:
    """A candidate's active submissions and placements (items ≤ 3, newest first; count: all of them)."""

    items: tuple[PipelineItem, ...]
    count: int

    @property
    def job_to_link(self) -> int | None:
        """The job a call's note is linked to: only when exactly one is active (DESIGN §13)."""
        return self.items[0].job_id if self.count == 1 and self.items else None


@dataclass(frozen=True)
class CompanyJobs:
    """A contact's company's open, not deleted JobOrders."""

    open_jobs: int


@dataclass(frozen=True)
class CardContext:
    last_contact: LastContact | None = None
    on_call_now: tuple[OnCall, ...] = ()
    pipeline: Pipeline | CompanyJobs | None = None
    #: False while some of it is still being fetched (a refreshed card brings it)
    complete: bool = True
    #: why a part is missing for good (e.g. Bullhorn refused the pipeline query)
    unavailable: tuple[str, ...] = ()


def call_id_of_note(external_id: Any) -> int | None:
    """The Aircall call a note callbridge wrote is about (`externalID` "aircall:<id>")."""
    if not isinstance(external_id, str) or not external_id.startswith(EXTERNAL_ID_PREFIX):
        return None
    tail = external_id[len(EXTERNAL_ID_PREFIX):]
    return int(tail) if tail.isascii() and tail.isdigit() else None


def last_contact(calls: Iterable[PastCall], notes: Iterable[Mapping[str, Any]], *,
                 ringing_call_id: int | None) -> LastContact | None:
    """The newest contact: a stored call, or a Bullhorn note when newer; never the ringing call itself.

    A note callbridge wrote for a call counts as that call (kind `call`): the store's row when it has
    one (it knows the direction), the note's facts otherwise.
    """
    stored = {call.call_id: call for call in calls if call.call_id != ringing_call_id}
    found: list[LastContact] = [
        LastContact(call.at, call.agent, "call", call.action, call.direction) for call in stored.values()]
    for note in notes:
        external = note.get("externalID")
        call_id = call_id_of_note(external)
        if call_id is not None and (call_id == ringing_call_id or call_id in stored):
            continue
        at = _epoch_ms(note.get("dateAdded"))
        if at is None or note.get("isDeleted") is True:
            continue
        kind: ContactKind = "call" if call_id is not None else "sms" if str(external or "").startswith(
            _SMS_PREFIX) else "note"
        found.append(LastContact(_from_ms(at), _person_name(note.get("commentingPerson")), kind,
                                 _text(note.get("action")), None))
    return max(found, key=lambda contact: contact.at, default=None)


def on_call_now(live: Iterable[LiveCall], *, ringing_call_id: int | None,
                agent_email: str | None) -> tuple[OnCall, ...]:
    """The other agents on a live call with the number: not this call, not this call's own agent."""
    mine = agent_email.casefold() if agent_email else None
    earliest: dict[str, LiveCall] = {}
    for call in live:
        key = call.agent_email.casefold()
        if call.call_id == ringing_call_id or key == mine:
            continue
        if key not in earliest or call.since < earliest[key].since:
            earliest[key] = call
    return tuple(OnCall(call.agent, call.since) for call in sorted(earliest.values(), key=lambda call: call.since))


def candidate_pipeline(submissions: Iterable[Mapping[str, Any]], placements: Iterable[Mapping[str, Any]], *,
                       now_ms: int) -> Pipeline:
    """Active submissions and placements, one item per job (a placement stands for its submission)."""
    by_job: dict[int, PipelineItem] = {}
    for row in submissions:
        item = _submission_item(row)
        if item is not None:
            by_job.setdefault(item.job_id, item)
    for row in placements:
        item = _placement_item(row, now_ms)
        if item is not None:
            by_job[item.job_id] = item
    ordered = sorted(by_job.values(), key=lambda item: (-item.date, -item.job_id))
    return Pipeline(tuple(ordered[:MAX_PIPELINE_ITEMS]), len(ordered))


def has_active_pipeline(pipeline: Pipeline | CompanyJobs | None) -> bool:
    if isinstance(pipeline, Pipeline):
        return pipeline.count > 0
    return isinstance(pipeline, CompanyJobs) and pipeline.open_jobs > 0


def rank_with_context(matches: Sequence[Match], *, agent_owner: str | None,
                      active: Collection[tuple[str, int]]) -> list[Match]:
    """DESIGN §4 ranking with two facts put before recency: the calling agent owns the record, then
    it has an active pipeline. `agent_owner` is the agent's Bullhorn user name as owners are written."""
    owner = _fold(agent_owner)

    def key(match: Match) -> tuple[int, int, int, int, int, int]:
        entity_rank = ENTITY_ORDER.index(match.entity) if match.entity in ENTITY_ORDER else len(ENTITY_ORDER)
        owned = owner is not None and _fold(match.owner) == owner
        return (0 if match.is_primary else 1, 0 if owned else 1, 0 if (match.entity, match.id) in active else 1,
                -match.date_last_modified, entity_rank, match.id)

    return sorted(matches, key=key)


def with_store_facts(context: CardContext, *, calls: Iterable[PastCall], live: Iterable[LiveCall],
                     ringing_call_id: int | None, agent_email: str | None,
                     notes: Iterable[Mapping[str, Any]]) -> CardContext:
    return replace(context, last_contact=last_contact(calls, notes, ringing_call_id=ringing_call_id),
                   on_call_now=on_call_now(live, ringing_call_id=ringing_call_id, agent_email=agent_email))


def context_json(context: CardContext) -> dict[str, Any]:
    """The card JSON's `"context"` (DESIGN §13)."""
    contact = context.last_contact
    pipeline: dict[str, Any] | None = None
    if isinstance(context.pipeline, Pipeline):
        pipeline = pipeline_json(context.pipeline)
    elif isinstance(context.pipeline, CompanyJobs):
        pipeline = {"open_jobs": context.pipeline.open_jobs}
    return {
        "last_contact": None if contact is None else {
            "at": iso_utc(contact.at), "by": contact.by, "kind": contact.kind, "action": contact.action,
            "direction": contact.direction},
        "on_call_now": [{"agent": call.agent, "since": iso_utc(call.since)} for call in context.on_call_now],
        "pipeline": pipeline,
        "complete": context.complete,
        "unavailable": list(context.unavailable),
    }


def pipeline_json(pipeline: Pipeline) -> dict[str, Any]:
    """A candidate's pipeline as the card JSON's `context.pipeline` has it (DESIGN §13)."""
    return {"items": [{"job_id": item.job_id, "title": item.title, "company": item.company, "status": item.status}
                      for item in pipeline.items],
            "count": pipeline.count}


def pipeline_from_json(value: Any) -> Pipeline | None:
    """`pipeline_json` read back; None for anything of another shape (never raises).

    The items' `date` is not in the JSON (the list is already newest first): it reads back as 0."""
    if not isinstance(value, Mapping):
        return None
    rows, count = value.get("items"), _id(value.get("count"))
    if not isinstance(rows, list) or count is None or len(rows) > min(count, MAX_PIPELINE_ITEMS):
        return None
    items: list[PipelineItem] = []
    for row in rows:
        job_id = _id(row.get("job_id")) if isinstance(row, Mapping) else None
        if job_id is None or not all(_optional_text(row.get(name)) for name in ("title", "company", "status")):
            return None
        items.append(PipelineItem(job_id, row.get("title"), row.get("company"), row.get("status"), 0))
    return Pipeline(tuple(items), count)


def ago(at: datetime, now: datetime) -> str:
    """"just now", "5 min ago", "2 h ago", "3 d ago"."""
    seconds = max(0, int((now - at).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86_400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86_400} d ago"


def context_lines(context: Mapping[str, Any], now: datetime) -> list[tuple[str, str]]:
    """The context in short (label, text) lines, from its JSON: for the Aircall card and the HTML card."""
    lines: list[tuple[str, str]] = []
    calls = context.get("on_call_now") or []
    if calls:
        names = ", ".join(str(call.get("agent")) for call in calls)
        lines.append(("On a call now", names))
    contact = context.get("last_contact")
    if isinstance(contact, Mapping):
        when = moment_from_iso(contact.get("at"))
        parts = [ago(when, now) if when else None, contact.get("by"), contact.get("action") or (
            None if contact.get("kind") == "call" else contact.get("kind"))]
        lines.append(("Last contact", ", ".join(str(part) for part in parts if part)))
    pipeline = context.get("pipeline")
    # short: what is not there takes no line (the HTML card says "nothing active")
    if isinstance(pipeline, Mapping) and "open_jobs" in pipeline:
        if pipeline["open_jobs"]:
            lines.append(("Open jobs", str(pipeline["open_jobs"])))
    elif isinstance(pipeline, Mapping):
        items = pipeline.get("items") or []
        for item in items:
            title = item.get("title") or f"Job #{item.get('job_id')}"
            lines.append((str(item.get("status") or "Pipeline"), str(title)))
        more = int(pipeline.get("count") or 0) - len(items)
        if more > 0:
            lines.append(("Pipeline", f"{more} more active"))
    return lines


def _submission_item(row: Mapping[str, Any]) -> PipelineItem | None:
    job = row.get("jobOrder")
    if row.get("isDeleted") is True or not isinstance(job, Mapping) or _id(job.get("id")) is None:
        return None
    if (_text(row.get("status")) or "").casefold() in ENDED_SUBMISSION_STATUSES or job.get("isOpen") is False:
        return None
    return _item(row, job, _epoch_ms(row.get("dateAdded")) or 0)


def _placement_item(row: Mapping[str, Any], now_ms: int) -> PipelineItem | None:
    job = row.get("jobOrder")
    if not isinstance(job, Mapping) or _id(job.get("id")) is None:
        return None
    if (_text(row.get("status")) or "").casefold() in ENDED_PLACEMENT_STATUSES:
        return None
    end = _epoch_ms(row.get("dateEnd"))
    if end is not None and end < now_ms:
        return None
    return _item(row, job, _epoch_ms(row.get("dateBegin")) or _epoch_ms(row.get("dateAdded")) or 0)


def _item(row: Mapping[str, Any], job: Mapping[str, Any], date: int) -> PipelineItem:
    corporation = job.get("clientCorporation")
    company = _text(corporation.get("name")) if isinstance(corporation, Mapping) else None
    job_id = _id(job.get("id"))
    assert job_id is not None
    return PipelineItem(job_id, _text(job.get("title")), company, _text(row.get("status")), date)


def _person_name(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    return _text(" ".join(part for part in (_text(value.get("firstName")), _text(value.get("lastName"))) if part))


def _fold(text: str | None) -> str | None:
    return " ".join(text.split()).casefold() if text and text.strip() else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    text = str(value).strip()
    return text or None


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _epoch_ms(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)
