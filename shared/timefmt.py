"""The one way a moment is written as text: ISO 8601 in UTC, ending in `Z` (DESIGN §3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

Precision = Literal["seconds", "milliseconds", "microseconds"]


def iso_utc(moment: datetime, *, timespec: Precision = "seconds") -> str:
    """`2026-11-25T10:00:00Z`; a naive datetime is taken to be UTC already. Finer precision truncates."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec=timespec).replace("+00:00", "Z")


def iso_from_epoch(epoch_s: float) -> str:
    """`iso_utc` of unix seconds (truncated to the second)."""
    return iso_utc(datetime.fromtimestamp(epoch_s, UTC))
