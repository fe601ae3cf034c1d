"""The candidate's pipeline the Insight Card read at ring time, kept with the call for its note's job link.

The card pusher stores it in the call's `match_json["pipeline"]` (`ring_pipeline_json`); the worker
reuses it (`usable_pipeline`) instead of asking Bullhorn again when it is about the note's person and
recent enough (DESIGN §13 job link, §15 Bullhorn spend). Anything else — another person, too old, a
shape this code does not know — is not used, and the worker reads the pipeline live as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from insight.domain.card_context import Pipeline, pipeline_from_json, pipeline_json
from insight.domain.notes import PersonRef
from shared.timefmt import iso_utc, moment_from_iso


@dataclass(frozen=True)
class RingPipeline:
    entity: str
    id: int
    #: when the card's context read it from Bullhorn
    read_at: datetime
    pipeline: Pipeline


def ring_pipeline_json(ring: RingPipeline) -> dict[str, Any]:
    return {"entity": ring.entity, "id": ring.id, "read_at": iso_utc(ring.read_at), **pipeline_json(ring.pipeline)}


def ring_pipeline_from_json(value: Any) -> RingPipeline | None:
    """`ring_pipeline_json` read back; None for anything of another shape (never raises)."""
    if not isinstance(value, Mapping):
        return None
    entity, record_id, read_at = value.get("entity"), value.get("id"), moment_from_iso(value.get("read_at"))
    pipeline = pipeline_from_json(value)
    if (not isinstance(entity, str) or not isinstance(record_id, int) or isinstance(record_id, bool)
            or read_at is None or pipeline is None):
        return None
    return RingPipeline(entity, record_id, read_at, pipeline)


def usable_pipeline(value: Any, person: PersonRef, *, now: datetime, max_age: timedelta) -> Pipeline | None:
    """The recorded pipeline when it is about `person` and read at most `max_age` before `now`."""
    ring = ring_pipeline_from_json(value)
    if ring is None or (ring.entity, ring.id) != (person.entity, person.id):
        return None
    # both ways: a web host's clock a little ahead of the worker's is still the same ring
    return ring.pipeline if abs(now - ring.read_at) <= max_age else None
