from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from insight.store.tables import calls, events
from tests.stack import WEBHOOK_TOKEN, running_stack

pytestmark = pytest.mark.anyio


def summary_event(data: dict[str, object]) -> dict[str, object]:
    return {"resource": "conversation_intelligence", "event": "summary.created", "timestamp": 1_795_000_300,
            "token": WEBHOOK_TOKEN, "data": data}


async def test_an_ai_event_is_stored_under_its_call_id_given_as_a_string_and_a_redelivery_is_a_duplicate(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack:
        first = await stack.deliver(summary_event({"id": 991, "call_id": "8701", "content": "Hi"}))
        again = await stack.deliver(summary_event({"id": 991, "call_id": "8701", "content": "Hi"}))
        with stack.store.engine.connect() as connection:
            stored = connection.execute(select(events.c.call_id, events.c.event)).all()
            row = connection.execute(select(calls.c.status, calls.c.next_attempt_at, calls.c.card_status)
                                     .where(calls.c.call_id == 8701)).one()

    assert (first.json()["status"], again.json()["status"]) == ("accepted", "duplicate")
    assert [tuple(found) for found in stored] == [(8701, "summary.created")]
    assert (row.status, row.next_attempt_at, row.card_status) == ("pending", None, None)


async def test_an_ai_event_without_a_call_id_answers_422_naming_the_field(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        response = await stack.deliver(summary_event({"id": 991, "content": "Hi"}))

    assert response.status_code == 422 and "data.call_id" in response.json()["detail"]
