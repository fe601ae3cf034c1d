"""Aircall's nested objects (User, Number, Team), tag ids and asset URLs, as the demo company's fake sends them.

Shared by the call builder (`sandbox.calls`) and the REST resources (`sandbox.aircall_resources`).
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import UTC, datetime
from typing import Any

from sandbox.people import TAGS, Agent, Line

API_BASE = "https://api.aircall.io/v1"
#: observed X-Amz-Expires of recording and voicemail URLs
SIGNED_URL_EXPIRES_S = 600

Json = dict[str, Any]


def user_object(agent: Agent) -> Json:
    """The shortened User nested in calls, tags and comments."""
    return {
        "id": agent.aircall_id, "direct_link": f"{API_BASE}/users/{agent.aircall_id}", "name": agent.name,
        "email": agent.aircall_email, "available": True, "availability_status": "available",
        "language": "en-US", "wrap_up_time": 90,
    }


def number_object(line: Line) -> Json:
    messages = ("welcome", "waiting", "ivr", "voicemail", "closed", "callback_later", "unanswered_call",
                "after_hours", "ringing_tone")
    return {
        "id": line.id, "direct_link": f"{API_BASE}/numbers/{line.id}", "name": line.name, "digits": line.digits,
        "country": line.country, "time_zone": line.time_zone, "open": True, "availability_status": "open",
        "is_ivr": False, "live_recording_activated": False,
        "messages": {name: f"https://assets.aircall.io/numbers/{line.id}/messages/{name}.mp3" for name in messages},
    }


def tag_id(name: str) -> int:
    """The id of a tag of the demo company; names outside it get a stable id of their own."""
    if name in TAGS:
        return 1022900 + TAGS.index(name)
    return 1100000 + zlib.crc32(name.encode()) % 100000


def signed_url(call_id: int, kind: str, signed_at: int) -> str:
    """A recording/voicemail URL like Aircall's: S3, signed at `signed_at`, valid for 10 minutes."""
    moment = datetime.fromtimestamp(signed_at, UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    signature = hashlib.sha256(f"{call_id}:{kind}:{signed_at}".encode()).hexdigest()
    return (
        f"https://aircall-production-recordings.s3.eu-west-1.amazonaws.com/calls/{call_id}/{kind}.mp3"
        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIASANDBOX%2F{moment:%Y%m%d}%2Feu-west-1%2Fs3%2F"
        f"aws4_request&X-Amz-Date={amz_date}&X-Amz-Expires={SIGNED_URL_EXPIRES_S}&X-Amz-SignedHeaders=host"
        f"&X-Amz-Signature={signature}"
    )


def asset_url(call_id: int, kind: str) -> str:
    return f"https://assets.aircall.io/calls/{call_id}/{kind}"


def team_object(line: Line) -> Json:
    team_id = 60000 + line.id % 1000
    return {"id": team_id, "direct_link": f"{API_BASE}/teams/{team_id}", "name": f"{line.name} team"}
