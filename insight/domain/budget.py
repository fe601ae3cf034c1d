"""Bullhorn's monthly API allowance (DESIGN §10 "Bullhorn API budget"): purposes, projection, pacing.

Bullhorn meters API calls per tenant per month (100,000 unless agreed otherwise), so every request
callbridge sends is counted by what it was for, and index upkeep paces itself to a share of it.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Purpose(StrEnum):
    #: ring-time and sync-time caller searches
    lookup = "lookup"
    #: note writes, updates and the idempotency reads around them
    note = "note"
    #: building the phone index and keeping it fresh
    phone_index = "index"
    #: setup checks and fixes, the action list, CorporateUsers
    setup = "setup"
    #: calls taken in from Aircall's call list
    backfill = "backfill"
    #: loginInfo, OAuth and REST logins
    session = "session"
    #: the card's context (DESIGN §13): the person's latest notes, the pipeline, agents' owner names
    context = "context"
    #: anything not attributed (kept visible rather than dropped)
    other = "other"


def month_of(moment: datetime) -> str:
    """`YYYY-MM` of a moment, in UTC (Bullhorn's meter is monthly)."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def month_seconds(moment: datetime) -> float:
    """How many seconds the UTC month of `moment` has."""
    utc = moment.astimezone(UTC)
    return calendar.monthrange(utc.year, utc.month)[1] * 86_400.0


def month_elapsed_s(moment: datetime) -> float:
    utc = moment.astimezone(UTC)
    start = utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (utc - start).total_seconds()


def project(total: int, moment: datetime) -> int:
    """Month-end projection at the pace so far; the first hour projects from an hour's worth."""
    elapsed_s = max(month_elapsed_s(moment), 3_600.0)
    return round(total * month_seconds(moment) / elapsed_s)


@dataclass(frozen=True)
class BudgetReport:
    month: str
    by_purpose: Mapping[str, int]
    total: int
    projected: int
    budget: int
    index_allowance: int

    @property
    def over_budget(self) -> bool:
        return self.projected > self.budget

    @property
    def warning(self) -> str | None:
        if not self.over_budget:
            return None
        return (f"At this pace callbridge will send {self.projected:,} Bullhorn requests in {self.month}, over the "
                f"budget of {self.budget:,} (BULLHORN_MONTHLY_API_BUDGET). Lower the index share "
                f"(CALLBRIDGE_INDEX_BUDGET_SHARE) or ask Bullhorn for a larger allowance.")

    def as_json(self) -> dict[str, object]:
        return {
            "month": self.month,
            "by_purpose": dict(self.by_purpose),
            "total": self.total,
            "projected": self.projected,
            "budget": self.budget,
            "index_allowance": self.index_allowance,
            "over_budget": self.over_budget,
            "warning": self.warning,
        }


def budget_report(counts: Mapping[str, int], *, now: datetime, budget: int, index_share: float) -> BudgetReport:
    """Month-to-date use by purpose (every purpose listed, zeros included) and the month-end projection."""
    by_purpose = {str(purpose): int(counts.get(str(purpose), 0)) for purpose in Purpose}
    total = sum(by_purpose.values())
    return BudgetReport(
        month=month_of(now),
        by_purpose=by_purpose,
        total=total,
        projected=project(total, now),
        budget=budget,
        index_allowance=round(budget * index_share),
    )


#: never poll Bullhorn's event queue more often than this, whatever the budget allows
MIN_INDEX_POLL_S = 30.0
#: the month used to turn a monthly allowance into an interval (the longest month: never overspends)
_MONTH_S = 31 * 86_400.0


def index_poll_interval_s(*, budget: int, share: float, requests_per_poll: float = 1.0) -> float:
    """Seconds between event polls so that index upkeep spends at most `share` of the monthly budget.

    Each poll costs one request, plus the bulk re-reads of changed records when there are events
    (`requests_per_poll` is the average); polling every 60 s alone would cost ~44,640 requests a month.
    """
    allowance = budget * share
    if allowance <= 0:
        return _MONTH_S
    return max(MIN_INDEX_POLL_S, _MONTH_S * requests_per_poll / allowance)
