"""The pipeline the card read at ring time, as the call keeps it for the note's job link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from insight.domain.card_context import (
    CardContext,
    Pipeline,
    PipelineItem,
    context_json,
    pipeline_from_json,
    pipeline_json,
)
from insight.domain.notes import PersonRef
from insight.domain.ring_pipeline import RingPipeline, ring_pipeline_from_json, ring_pipeline_json, usable_pipeline

RING = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PIPELINE = Pipeline((PipelineItem(62_000, "Staff Nurse", "Northwind Health", "Interview Scheduled", 0),
                     PipelineItem(62_001, None, None, None, 0)), 5)


def _recorded(**changes: Any) -> dict[str, Any]:
    return {**ring_pipeline_json(RingPipeline("Candidate", 7, RING, PIPELINE)), **changes}


def test_a_pipeline_read_back_from_its_json_is_the_same_pipeline_and_writes_the_same_json() -> None:
    written = pipeline_json(PIPELINE)

    assert pipeline_from_json(written) == PIPELINE
    assert pipeline_json(pipeline_from_json(written) or Pipeline((), 0)) == written


def test_the_cards_context_json_shows_the_pipeline_in_the_same_shape_the_call_keeps() -> None:
    assert context_json(CardContext(pipeline=PIPELINE))["pipeline"] == pipeline_json(PIPELINE)


def test_a_recorded_pipeline_round_trips_with_its_person_and_read_time() -> None:
    recorded = _recorded()

    assert recorded["entity"] == "Candidate" and recorded["id"] == 7 and recorded["read_at"] == "2026-11-25T09:00:00Z"
    assert ring_pipeline_from_json(recorded) == RingPipeline("Candidate", 7, RING, PIPELINE)


@pytest.mark.parametrize("malformed", [
    None, "a pipeline", [], {},
    {"entity": "Candidate", "id": 7, "read_at": "2026-11-25T09:00:00Z"},
    _recorded(read_at="yesterday"), _recorded(read_at=None), _recorded(id="7"), _recorded(id=True),
    _recorded(entity=None), _recorded(items="none"), _recorded(count=None), _recorded(count=1),
    _recorded(items=[{"job_id": "62000"}]), _recorded(items=[{"job_id": 1, "title": 5}], count=1),
    _recorded(items=["62000"], count=1), _recorded(items=[{"job_id": n} for n in range(4)], count=4),
])
def test_a_recorded_pipeline_of_another_shape_reads_as_none_and_never_raises(malformed: Any) -> None:
    assert ring_pipeline_from_json(malformed) is None
    assert usable_pipeline(malformed, PersonRef("Candidate", 7), now=RING, max_age=2 * HOUR) is None


def test_a_recent_pipeline_about_the_notes_person_is_used() -> None:
    assert usable_pipeline(_recorded(), PersonRef("Candidate", 7), now=RING + 2 * HOUR, max_age=2 * HOUR) == PIPELINE


@pytest.mark.parametrize("person", [PersonRef("Candidate", 8), PersonRef("ClientContact", 7)])
def test_a_pipeline_about_another_person_is_not_used(person: PersonRef) -> None:
    assert usable_pipeline(_recorded(), person, now=RING, max_age=2 * HOUR) is None


def test_a_pipeline_read_longer_ago_than_the_limit_is_not_used() -> None:
    late = RING + 2 * HOUR + timedelta(seconds=1)

    assert usable_pipeline(_recorded(), PersonRef("Candidate", 7), now=late, max_age=2 * HOUR) is None
