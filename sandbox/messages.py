"""SMS conversations as Aircall `message.received` / `message.sent` webhooks, for the demo and tests.

The shapes vary the way reference/aircall-next.md §2 says Aircall's do: message ids are strings,
`created_at` is an ISO string in some payloads and epoch milliseconds in others, and the customer's
number is in `external_number`. The demo's conversations include one with a number no record
holds and one that runs over midnight UTC (two days: two notes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from sandbox.people import AGENTS, LINES, Agent, Line

#: 2026-11-25 23:50 UTC: the demo's day-boundary conversation starts ten minutes before midnight
DEMO_EVENING = int(datetime(2026, 11, 25, 23, 50, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Text:
    """One message of a script: seconds after the conversation starts, who writes, what."""

    at_s: int
    inbound: bool
    body: str
    media: tuple[str, ...] = ()


def message_envelope(*, message_id: str, line: Line, number: str, text: Text, started_at: int, token: str,
                     agent: Agent | None = None, times_in_ms: bool = False) -> dict[str, Any]:
    """One webhook as Aircall sends it for a message of `text` (inbound: received; outbound: sent)."""
    moment = started_at + text.at_s
    created: int | str = moment * 1000 if times_in_ms else datetime.fromtimestamp(moment, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    data: dict[str, Any] = {
        "id": message_id, "direction": "inbound" if text.inbound else "outbound",
        "status": "received" if text.inbound else "sent", "origin": "native", "channel": None,
        "body": text.body, "external_number": number, "created_at": created, "updated_at": created,
        "number": {"id": line.id, "name": line.name, "digits": line.digits, "country": line.country,
                   "time_zone": line.time_zone, "availability_status": "open"},
        "contact": None,
    }
    if text.media and text.inbound:
        data["media_details"] = [{"file_name": url.rsplit("/", 1)[-1], "file_type": "image/jpeg",
                                  "presigned_url": url} for url in text.media]
    elif text.media:
        data["media_url"] = list(text.media)
    if agent is not None and not text.inbound:
        data["user"] = {"id": agent.aircall_id, "name": agent.name, "email": agent.aircall_email}
    return {"resource": "message", "event": "message.received" if text.inbound else "message.sent",
            "timestamp": moment, "token": token, "data": data}


def conversation(number: str, texts: Sequence[Text], *, started_at: int, token: str, line: Line = LINES[0],
                 agent: Agent = AGENTS[0], prefix: str = "sms", times_in_ms: bool = False) -> list[dict[str, Any]]:
    """Every webhook of one conversation, in order."""
    return [message_envelope(message_id=f"{started_at}{prefix}{index:03d}", line=line, number=number, text=text,
                             started_at=started_at, token=token, agent=agent, times_in_ms=times_in_ms)
            for index, text in enumerate(texts)]


def demo_conversations(known: Sequence[str], unknown: str, *, token: str,
                       started_at: int = DEMO_EVENING) -> list[dict[str, Any]]:
    """The demo's conversations: with known callers (one over midnight UTC), and with an unknown number."""
    envelopes = conversation(known[0], [
        Text(0, True, "Hi, is the forklift role at Harbor Logistics still open?"),
        Text(120, False, "It is! Are you free for a quick call tomorrow at 9?"),
        Text(540, True, "Yes <b>9am</b> works & thanks", media=("https://media.example.com/cv-photo.jpg",)),
        Text(1200, False, "Great, talk then."),  # 00:10 UTC: the next day's note
    ], started_at=started_at, token=token, prefix="a")
    if len(known) > 1:
        envelopes += conversation(known[1], [
            Text(0, False, "Reminder: timesheets are due by 5pm."),
            Text(300, True, "Sent mine just now."),
        ], started_at=started_at - 6 * 3600, token=token, line=LINES[1], agent=AGENTS[2], prefix="b",
            times_in_ms=True)
    envelopes += conversation(unknown, [
        Text(0, True, "Hello, I saw your ad for warehouse shifts. Who should I talk to?"),
        Text(90, False, "Thanks for reaching out! What's your name?"),
    ], started_at=started_at - 3 * 3600, token=token, prefix="c")
    return envelopes


async def send_conversations(client: httpx.AsyncClient, webhook_url: str, envelopes: Sequence[dict[str, Any]],
                             ) -> list[int]:
    """POST each envelope as Aircall would; the status codes answered."""
    return [(await client.post(webhook_url, json=envelope)).status_code for envelope in envelopes]


async def play_demo_conversations(webhook_url: str, token: str, *, client: httpx.AsyncClient | None = None,
                                  ) -> list[int]:
    """Send the demo's conversations, with the demo tenant's callers, to `webhook_url`."""
    from sandbox.demo_data import build_demo_data

    callers = build_demo_data().callers
    known = [caller.raw_digits for caller in callers if caller.kind in ("candidate", "contact")][:2]
    unknown = next(caller.raw_digits for caller in callers if caller.kind == "unknown")
    envelopes = demo_conversations(known, unknown, token=token)
    if client is not None:
        return await send_conversations(client, webhook_url, envelopes)
    async with httpx.AsyncClient(timeout=5.0) as own:
        return await send_conversations(own, webhook_url, envelopes)
