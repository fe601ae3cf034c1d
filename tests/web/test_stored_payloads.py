"""What the webhook stores of an event: everything but the `token` credential (DESIGN §14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from insight.store.tables import events
from tests.stack import WEBHOOK_TOKEN, running_stack
from tests.worker_kit import caller, events_of, script

pytestmark = pytest.mark.anyio


async def test_the_webhook_token_is_never_stored_and_the_rest_of_the_event_is(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        envelope = events_of(script(7_200_001, caller("candidate").raw_digits))[0].envelope
        assert envelope["token"] == WEBHOOK_TOKEN
        answer = await stack.deliver(envelope)
        with stack.store.engine.connect() as connection:
            [payload] = connection.execute(select(events.c.payload)).scalars()

    assert answer.json() == {"status": "accepted"}
    assert WEBHOOK_TOKEN not in payload
    assert json.loads(payload) == {key: value for key, value in envelope.items() if key != "token"}
