"""Backfill's pure rules (DESIGN §11 "Backfill"): which range to list, how to window it, what to take in.

Aircall deactivates a webhook that keeps failing, and calls made while callbridge was unreachable
never arrive, so the worker lists Aircall's calls from a stored watermark and takes in what the
store lacks. A call is taken in from its REST snapshot as the `call.ended` event it would have
sent, so the same reducer and note path handle it and a late webhook only updates that one note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Aircall keeps about six months of calls (sources say 3 to 6): a longer range cannot be listed
MAX_RANGE_S = 183 * 86_400
#: Aircall yields at most this many items per query however it is paged; a fuller window is split
MAX_LIST_ITEMS = 10_000
#: each periodic run starts this far before the watermark: a call listed late (clock skew, a call
#: still being written when the previous run read) is seen twice rather than never
OVERLAP_S = 600
#: a still-running call holds the watermark back so its end is seen, but not longer than this
MAX_LIVE_HOLD_S = 4 * 3_600
#: the source a call taken in by backfill shows in the call JSON
SOURCE = "backfill"
#: the stored event a REST snapshot becomes
ENDED_EVENT = "call.ended"


class RangeError(ValueError):
    """A requested range Aircall cannot serve; `field` names the part to fix."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field


@dataclass(frozen=True, order=True)
class Window:
    """UNIX seconds, both ends inclusive (Aircall's `from`/`to` on the call's start)."""

    start: int
    end: int

    def halves(self) -> tuple[Window, Window]:
        middle = (self.start + self.end) // 2
        return Window(self.start, middle), Window(middle + 1, self.end)

    @property
    def splittable(self) -> bool:
        return self.end > self.start


def check_range(start: datetime, end: datetime, *, now: datetime) -> Window:
    """The window of an on-demand backfill, or RangeError naming the field to fix."""
    if start.tzinfo is None or end.tzinfo is None:
        raise RangeError("from" if start.tzinfo is None else "to", "must carry a time zone (e.g. Z)")
    if end < start:
        raise RangeError("to", "is before from")
    if start > now:
        raise RangeError("from", "is in the future")
    if (end - start).total_seconds() > MAX_RANGE_S:
        raise RangeError("from", f"must be at most {MAX_RANGE_S // 86_400} days before to (Aircall keeps ~6 months)")
    if (now - start).total_seconds() > MAX_RANGE_S:
        raise RangeError("from", f"is more than {MAX_RANGE_S // 86_400} days ago: Aircall no longer lists those calls")
    return Window(int(start.timestamp()), int(min(end, now).timestamp()))


def periodic_window(watermark: int | None, *, now: int, lookback_s: int) -> Window:
    """What a periodic run lists: from the watermark less the overlap (a fresh store looks back `lookback_s`)."""
    start = now - lookback_s if watermark is None else watermark - OVERLAP_S
    return Window(max(0, min(start, now)), now)


def next_watermark(window: Window, live_started_at: Sequence[int]) -> int:
    """Where the next run may start: the window's end, held back by calls still running (bounded)."""
    floor = window.end - MAX_LIVE_HOLD_S
    held = [started for started in live_started_at if started >= floor]
    return min([window.end, *held])


@dataclass(frozen=True)
class SnapshotEvent:
    call_id: int
    dedupe_key: str
    timestamp: int
    #: the stored event: an envelope like the webhook's, without a token
    document: dict[str, Any]


def snapshot_event(call: Mapping[str, Any]) -> SnapshotEvent | None:
    """The `call.ended` event of an ended call's REST snapshot; None for a call still running or malformed."""
    call_id = call.get("id")
    ended_at = call.get("ended_at")
    if not _positive_int(call_id) or not _positive_int(ended_at):
        return None
    assert isinstance(call_id, int) and isinstance(ended_at, int)
    return SnapshotEvent(
        call_id=call_id,
        # never a webhook's key (`event:id:timestamp`): a late webhook is stored beside it, not refused
        dedupe_key=f"{SOURCE}:{call_id}:{ended_at}",
        timestamp=ended_at,
        document={"resource": "call", "event": ENDED_EVENT, "timestamp": ended_at, "data": dict(call)},
    )


def needs_taking_in(known: bool, has_ended: bool) -> bool:
    """A call the store does not know, or knows without its `call.ended`, is taken in."""
    return not known or not has_ended


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
