"""Backfill's rows: which listed calls the store knows, taking snapshots in, and the runs as jobs."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, select, update

from insight.domain.aircall_events import parse_envelope
from insight.domain.backfill import SOURCE, SnapshotEvent
from insight.store.engine import write_connection
from insight.store.intake_batch import event_to_record, record_batch
from insight.store.tables import backfill_jobs, calls, utcnow
from shared.timefmt import iso_utc

#: job kinds: the worker's periodic runs and the ones an operator asked for
PERIODIC, ON_DEMAND = "periodic", "on_demand"
RUNNING, DONE, FAILED = "running", "done", "failed"


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    status: str
    window_from: datetime
    window_to: datetime
    seen: int
    taken_in: int
    known: int
    detail: str | None
    watermark: int | None

    def as_json(self) -> dict[str, object]:
        return {
            "job": self.job_id,
            "kind": self.kind,
            "status": self.status,
            "from": iso_utc(self.window_from),
            "to": iso_utc(self.window_to),
            "seen": self.seen,
            "taken_in": self.taken_in,
            "known": self.known,
            "detail": self.detail,
        }


def known_calls(engine: Engine, call_ids: Iterable[int]) -> dict[int, bool]:
    """call id -> whether its end (`call.ended`) is stored, for the ids the store knows."""
    ids = sorted(set(call_ids))
    if not ids:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(select(calls.c.call_id, calls.c.is_over).where(calls.c.call_id.in_(ids)))
        return {int(call_id): bool(is_over) for call_id, is_over in rows}


def take_in(engine: Engine, snapshots: Sequence[SnapshotEvent]) -> int:
    """Stores each snapshot as its call's `call.ended` event through the intake path; how many were new."""
    if not snapshots:
        return 0
    items = []
    for snapshot in snapshots:
        # the worker reads stored events as envelopes; a snapshot has no token to keep
        payload = json.dumps({**snapshot.document, "token": ""}, separators=(",", ":"))
        item = event_to_record(parse_envelope(payload), payload, claim_card=False)
        # never a webhook's key: a late webhook is stored beside the snapshot, not refused as a redelivery
        items.append(dataclasses.replace(item, dedupe_key=snapshot.dedupe_key))
    recorded = record_batch(engine, items)
    new_ids = [item.call_id for item, result in zip(items, recorded, strict=True) if result is not None and result.new]
    if new_ids:
        with write_connection(engine) as connection, connection.begin():
            connection.execute(update(calls).where(calls.c.call_id.in_(new_ids)).values(source=SOURCE))
    return len(new_ids)


def start_job(engine: Engine, *, kind: str, window_from: datetime, window_to: datetime) -> Job:
    now = utcnow()
    values = {"job_id": uuid.uuid4().hex, "kind": kind, "status": RUNNING, "window_from": window_from,
              "window_to": window_to, "seen": 0, "taken_in": 0, "known": 0, "detail": None, "watermark": None,
              "created_at": now, "updated_at": now}
    with write_connection(engine) as connection, connection.begin():
        connection.execute(backfill_jobs.insert().values(**values))
    return _job(values)


def update_job(engine: Engine, job_id: str, *, seen: int, taken_in: int, known: int, status: str = RUNNING,
               detail: str | None = None, watermark: int | None = None) -> None:
    with write_connection(engine) as connection, connection.begin():
        connection.execute(update(backfill_jobs).where(backfill_jobs.c.job_id == job_id).values(
            seen=seen, taken_in=taken_in, known=known, status=status, detail=detail, watermark=watermark,
            updated_at=utcnow()))


def get_job(engine: Engine, job_id: str) -> Job | None:
    with engine.connect() as connection:
        row = connection.execute(select(backfill_jobs).where(backfill_jobs.c.job_id == job_id)).mappings().first()
    return None if row is None else _job(row)


def last_job(engine: Engine, *, kind: str) -> Job | None:
    """The newest run of `kind`, whatever its state."""
    query = select(backfill_jobs).where(backfill_jobs.c.kind == kind).order_by(backfill_jobs.c.created_at.desc())
    with engine.connect() as connection:
        row = connection.execute(query.limit(1)).mappings().first()
    return None if row is None else _job(row)


def last_watermark(engine: Engine) -> int | None:
    """Where the last finished periodic run says the next may start (None on a fresh store)."""
    query = (select(backfill_jobs.c.watermark)
             .where(and_(backfill_jobs.c.kind == PERIODIC, backfill_jobs.c.status == DONE,
                         backfill_jobs.c.watermark.is_not(None)))
             .order_by(backfill_jobs.c.created_at.desc()).limit(1))
    with engine.connect() as connection:
        value = connection.execute(query).scalar()
    return None if value is None else int(value)


def fail_abandoned(engine: Engine, *, kind: str, older_than: datetime, detail: str) -> int:
    """Marks `failed` the runs of `kind` still `running` but untouched since `older_than` (their process died)."""
    with write_connection(engine) as connection, connection.begin():
        result = connection.execute(update(backfill_jobs).where(and_(
            backfill_jobs.c.kind == kind, backfill_jobs.c.status == RUNNING,
            backfill_jobs.c.updated_at < older_than)).values(status=FAILED, detail=detail, updated_at=utcnow()))
    return int(result.rowcount or 0)


def backfilled_count(engine: Engine) -> int:
    """Calls that reached callbridge through backfill (for the summary and /metrics)."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).where(calls.c.source == SOURCE)).scalar() or 0)


def _job(row: Mapping[Any, Any]) -> Job:
    get = row.__getitem__
    return Job(job_id=get("job_id"), kind=get("kind"), status=get("status"), window_from=get("window_from"),
               window_to=get("window_to"), seen=int(get("seen")), taken_in=int(get("taken_in")),
               known=int(get("known")), detail=get("detail"), watermark=get("watermark"))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
