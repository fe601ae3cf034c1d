"""Calls played through the real web intake, and what the store and the Bullhorn sandbox then hold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from insight.store.tables import attempts, calls
from sandbox.calls import CallKind, CallScript, CommentScript, ScheduledEvent, TagScript, lifecycle
from sandbox.demo_data import Caller
from sandbox.people import AGENTS, LINES, Agent
from tests.stack import WEBHOOK_TOKEN, Stack, demo_data

STARTED_AT = 1_795_000_000


def caller(kind: str) -> Caller:
    return next(caller for caller in demo_data().callers if caller.kind == kind)


def agent(name: str) -> Agent:
    return next(agent for agent in AGENTS if agent.name == name)


def script(
    call_id: int,
    raw_digits: str,
    kind: CallKind = CallKind.INBOUND_ANSWERED,
    *,
    by: Agent = AGENTS[0],
    tags: Iterable[TagScript] = (),
    comments: Iterable[CommentScript] = (),
) -> CallScript:
    answered = kind in (CallKind.INBOUND_ANSWERED, CallKind.OUTBOUND_ANSWERED, CallKind.TRANSFERRED)
    return CallScript(
        call_id=call_id, kind=kind, agent=by, line=LINES[0], raw_digits=raw_digits, started_at=STARTED_AT,
        talk_s=95 if answered else 0, voicemail_s=20 if kind is CallKind.VOICEMAIL else 0,
        tags=tuple(tags), comments=tuple(comments),
    )


def events_of(call: CallScript) -> list[ScheduledEvent]:
    return lifecycle(call, token=WEBHOOK_TOKEN)


async def play(stack: Stack, call: CallScript, *, until_s: int | None = None, after_s: int | None = None) -> None:
    """Deliver the call's webhooks due in (after_s, until_s] through the web, and let card pushes finish."""
    for event in events_of(call):
        if (until_s is None or event.send_at_s <= until_s) and (after_s is None or event.send_at_s > after_s):
            response = await stack.deliver(event.envelope)
            assert response.status_code == 200, response.text
    await stack.settle()


def ended_s(call: CallScript) -> int:
    return next(event.send_at_s for event in events_of(call) if event.envelope["event"] == "call.ended")


def notes_of(stack: Stack, call_id: int) -> list[dict[str, Any]]:
    return [note for note in stack.bullhorn.notes.values() if note.get("externalID") == f"aircall:{call_id}"]


def row(stack: Stack, call_id: int) -> dict[str, Any]:
    with stack.store.engine.connect() as connection:
        return dict(connection.execute(select(calls).where(calls.c.call_id == call_id)).one()._mapping)


def attempt_rows(stack: Stack, call_id: int) -> list[dict[str, Any]]:
    statement = select(attempts).where(attempts.c.call_id == call_id).order_by(attempts.c.id)
    with stack.store.engine.connect() as connection:
        return [dict(found._mapping) for found in connection.execute(statement)]


def kinds(stack: Stack, call_id: int) -> list[tuple[str, str]]:
    return [(attempt["kind"], attempt["outcome"]) for attempt in attempt_rows(stack, call_id)]


__all__ = ["CallKind", "CommentScript", "TagScript"]
