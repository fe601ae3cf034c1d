"""SMS conversations played through the real web intake, and the message worker that writes their notes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from insight.lookup.service import LookupService
from insight.store.tables import conversations
from insight.worker.authors import AuthorDirectory
from insight.worker.messages import MessageWorker
from sandbox.messages import Text, conversation
from tests.stack import WEBHOOK_TOKEN, Stack

__all__ = ["Text", "conversation_rows", "deliver_all", "message_worker", "sms_notes", "texts"]

#: 2025-11-25 10:00 UTC
MORNING = 1_764_064_800


def texts(number: str, *items: Text, started_at: int = MORNING, **options: Any) -> list[dict[str, Any]]:
    return conversation(number, items, started_at=started_at, token=WEBHOOK_TOKEN, **options)


async def deliver_all(stack: Stack, envelopes: list[dict[str, Any]]) -> list[str]:
    answers = []
    for envelope in envelopes:
        response = await stack.web.post("/webhooks/aircall", json=envelope)
        assert response.status_code == 200, response.text
        answers.append(response.json()["status"])
    return answers


def message_worker(stack: Stack, *, lease_s: float | None = None, worker_id: str | None = None) -> MessageWorker:
    """A message worker on the stack's store, sharing the web's Bullhorn client (and session).

    `lease_s` replaces CALLBRIDGE_WORKER_LEASE_S for this worker.
    """
    settings = stack.settings if lease_s is None else replace(stack.settings, worker_lease_s=lease_s)
    bullhorn = stack.services.bullhorn
    lookup = LookupService(bullhorn, default_region=settings.default_region,
                           excluded_statuses=settings.excluded_statuses, ttl_s=settings.cache_ttl_s,
                           negative_ttl_s=settings.negative_ttl_s)
    authors = AuthorDirectory(bullhorn, api_username=settings.bullhorn_username,
                              default_user_id=settings.bullhorn_default_user_id)
    return MessageWorker(engine=stack.store.engine, bullhorn=bullhorn, lookup=lookup, authors=authors,
                         settings=settings, clock=stack.clock, worker_id=worker_id)


def sms_notes(stack: Stack) -> list[dict[str, Any]]:
    notes = (note for note in stack.bullhorn.notes.values() if str(note.get("externalID")).startswith("aircall-sms:"))
    return sorted(notes, key=lambda note: str(note["externalID"]))


def conversation_rows(stack: Stack) -> list[dict[str, Any]]:
    with stack.store.engine.connect() as connection:
        rows = connection.execute(select(conversations).order_by(conversations.c.day, conversations.c.id))
        return [dict(found._mapping) for found in rows]
