"""Events stored through the web's one intake write path (`record_batch`), for tests of what lies behind it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from insight.domain.aircall_events import parse_envelope
from insight.store import Store
from insight.store.intake_batch import EventToRecord, RecordedEvent, event_to_record, record_batch


def record(store: Store, envelope: Mapping[str, Any], *, claim_card: bool = False) -> RecordedEvent:
    """Store one webhook envelope as the web does: parsed, summarised, written in a batch of its own."""
    item = event_to_record(parse_envelope(envelope), json.dumps(envelope), claim_card=claim_card)
    return _one(store, item)


def record_raw(store: Store, *, dedupe_key: str, call_id: int, event: str, timestamp: int,
               payload: str) -> RecordedEvent:
    """Store an event with exactly these fields and no summary (for tests of the events table itself)."""
    item = EventToRecord(dedupe_key=dedupe_key, call_id=call_id, event=event, event_timestamp=timestamp,
                         payload=payload, summary={}, claim_card=False)
    return _one(store, item)


def _one(store: Store, item: EventToRecord) -> RecordedEvent:
    [recorded] = record_batch(store.engine, [item])
    assert recorded is not None
    return recorded
