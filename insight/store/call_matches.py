"""Giving an unmatched call the record a person just created for its number (DESIGN §12 "Create a record")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, and_, update

from insight.store.engine import write_connection
from insight.store.tables import calls, utcnow
from shared.states import SyncState


def adopt_match(engine: Engine, call_id: int, match_json: Mapping[str, Any]) -> bool:
    """Make `match_json` the call's match and queue it for its note at once.

    The match is set rather than searched for again: Bullhorn's search index takes a while to show a
    new record. False when the call has a note already or a worker holds it right now.
    """
    now = utcnow()
    in_flight = and_(calls.c.status == SyncState.syncing.value, calls.c.locked_until >= now)
    with write_connection(engine) as connection, connection.begin():
        changed = connection.execute(
            update(calls)
            .where(calls.c.call_id == call_id, calls.c.note_id.is_(None), ~in_flight)
            .values(match_json=dict(match_json), status=SyncState.pending.value, next_attempt_at=now,
                    attempt_count=0, rematch=False, locked_by=None, locked_until=None, updated_at=now)
        ).rowcount
    return changed == 1
