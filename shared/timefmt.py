"""The one way a moment is written as text: ISO 8601 in UTC, ending in `Z` (DESIGN §3), and read back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

Precision = Literal["seconds", "milliseconds", "microseconds"]


def iso_utc(moment: datetime, *, timespec: Precision = "seconds") -> str:
    """`2026-11-25T10:00:00Z`; a naive datetime is taken to be UTC already. Finer precision truncates."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec=timespec).replace("+00:00", "Z")


def iso_from_epoch(epoch_s: float) -> str:
    """`iso_utc` of unix seconds (truncated to the second)."""
    return iso_utc(datetime.fromtimestamp(epoch_s, UTC))


def moment_from_iso(value: Any) -> datetime | None:
    """An ISO 8601 text read back as an aware datetime (a naive one is taken to be UTC); None for
    anything else (stored JSON read back never raises)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
