"""Builders of realistic Aircall call webhooks, shaped like reference/aircall.md §3's captured payloads."""

from __future__ import annotations

import copy
from typing import Any

from insight.domain.aircall_events import Envelope, parse_envelope

CALL_ID = 780883160
TOKEN = "58ffd2bc0a1e4c7f9b3d"

GRACE: dict[str, Any] = {
    "id": 731401,
    "direct_link": "https://api.aircall.io/v1/users/731401",
    "name": "Grace Hopper",
    "email": "grace.hopper@northwind-staffing.com",
    "available": True,
    "availability_status": "available",
    "language": "en-US",
    "wrap_up_time": 90,
}
ALAN: dict[str, Any] = {
    **GRACE,
    "id": 731402,
    "direct_link": "https://api.aircall.io/v1/users/731402",
    "name": "Alan Turing",
    "email": "alan.turing@northwind-staffing.com",
}
LONDON_DESK: dict[str, Any] = {
    "id": 397301,
    "direct_link": "https://api.aircall.io/v1/numbers/397301",
    "name": "London Desk",
    "digits": "+44 20 3966 0100",
    "country": "GB",
    "time_zone": "Europe/London",
    "open": True,
    "availability_status": "open",
    "is_ivr": False,
    "live_recording_activated": True,
    "messages": {"welcome": "https://example.invalid/welcome.mp3"},
}


def user(base: dict[str, Any] = GRACE, **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(base), **changes}


def tag(name: str, tagged_at: int, by: dict[str, Any] | None = None, *, tag_id: int | None = None) -> dict[str, Any]:
    return {
        "id": tag_id if tag_id is not None else 1022000 + sum(map(ord, name)),
        "name": name,
        "tagged_by": copy.deepcopy(GRACE if by is None else by),
        "tagged_at": tagged_at,
    }


def comment(comment_id: int, content: str, posted_at: int, posted_by: dict[str, Any] | None = GRACE) -> dict[str, Any]:
    return {"id": comment_id, "content": content, "posted_by": copy.deepcopy(posted_by), "posted_at": posted_at}


def call_data(**changes: Any) -> dict[str, Any]:
    """A Call object; `changes` replace top-level keys (pass `user=None` for the null Aircall sends)."""
    data: dict[str, Any] = {
        "id": CALL_ID,
        "direct_link": f"https://api.aircall.io/v1/calls/{CALL_ID}",
        "direction": "inbound",
        "status": "initial",
        "missed_call_reason": None,
        "started_at": 1646391174,
        "answered_at": None,
        "ended_at": None,
        "duration": 0,
        "cost": "0.0",
        "hangup_cause": None,
        "voicemail": None,
        "recording": None,
        "asset": None,
        "raw_digits": "+44 330 818 6690",
        "number": copy.deepcopy(LONDON_DESK),
        "archived": False,
        "assigned_to": None,
        "transferred_by": None,
        "transferred_to": None,
        "teams": [],
        "comments": [],
        "tags": [],
        "contact": None,
    }
    data.update(copy.deepcopy(changes))
    return data


def call_event(event: str, timestamp: int, **changes: Any) -> dict[str, Any]:
    return {"resource": "call", "event": event, "timestamp": timestamp, "token": TOKEN, "data": call_data(**changes)}


def envelope(event: str, timestamp: int, **changes: Any) -> Envelope:
    return parse_envelope(call_event(event, timestamp, **changes))


def answered_call() -> list[Envelope]:
    """Inbound, rung on Alan, answered by Grace, 4 min 05 s of talk, tagged during and after the call,
    commented a minute after `call.ended`."""
    start, answer, hangup = 1646391174, 1646391180, 1646391425
    first = tag("Sourcing Call", 1646391300)
    wrap_up = tag("BD Call", 1646391427)
    talking = {"status": "answered", "answered_at": answer, "user": user()}
    done = {**talking, "status": "done", "ended_at": hangup, "duration": hangup - start}
    recorded = {**done, "recording": "https://aircall-recordings.s3.amazonaws.com/r.mp3?X-Amz-Expires=600",
                "asset": f"https://assets.aircall.io/calls/{CALL_ID}/recording"}
    notes = [comment(24923492, "Wants a contract role\nAvailable from March", 1646391515)]
    return [
        envelope("call.created", start),
        envelope("call.ringing_on_agent", start + 1, user=user(ALAN)),
        envelope("call.answered", answer, **talking),
        envelope("call.tagged", 1646391300, **talking, tags=[first]),
        envelope("call.hungup", hangup, **done, tags=[first]),
        envelope("call.tagged", 1646391427, **done, tags=[wrap_up, first]),
        envelope("call.ended", hangup + 30, **recorded, tags=[first, wrap_up]),
        envelope("call.commented", 1646391515, **recorded, tags=[wrap_up, first], comments=notes),
    ]


def voicemail_call() -> list[Envelope]:
    """Inbound, rung on two agents in the same second, nobody answered, the caller left a voicemail;
    Aircall tagged it "Callback Request" itself and a comment was posted through the API."""
    start, hangup = 1646392000, 1646392045
    done = {"status": "done", "started_at": start, "ended_at": hangup, "duration": hangup - start,
            "missed_call_reason": "agents_did_not_answer"}
    left = {**done, "voicemail": "https://aircall-voicemails.s3.amazonaws.com/v.mp3?X-Amz-Expires=600",
            "asset": f"https://assets.aircall.io/calls/{CALL_ID}/voicemail"}
    callback = tag("Callback Request", hangup + 40, by={})
    note = comment(24923500, "Called back, no answer", hangup + 90, posted_by=None)
    return [
        envelope("call.created", start, started_at=start),
        envelope("call.ringing_on_agent", start + 1, started_at=start, user=user(ALAN)),
        envelope("call.ringing_on_agent", start + 1, started_at=start, user=user()),
        envelope("call.hungup", hangup, **done),
        envelope("call.ended", hangup + 30, **left),
        envelope("call.voicemail_left", hangup + 33, **left),
        envelope("call.tagged", hangup + 40, **left, tags=[callback]),
        envelope("call.commented", hangup + 90, **left, tags=[callback], comments=[note]),
    ]
