"""The Bullhorn API meter as `web` reports it: `/api/summary`'s `bullhorn_requests` and `/metrics` gauges."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import anyio.to_thread
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import Engine

from insight.domain.budget import BudgetReport, budget_report, month_of
from insight.store.scrape import StoreCollector
from insight.store.usage import flush_usage, month_usage
from insight.upstream.meter import RequestMeter
from shared.settings import Settings


def read_budget(engine: Engine, settings: Settings, now: datetime) -> BudgetReport:
    """Blocking (one small read): this month's stored counts, every process's, with the projection."""
    return budget_report(month_usage(engine, month_of(now)), now=now, budget=settings.bullhorn_monthly_api_budget,
                         index_share=settings.index_budget_share)


async def budget_now(engine: Engine, settings: Settings, meter: RequestMeter, now: datetime) -> BudgetReport:
    """This process's uncounted requests stored first, then the month read: exact for this process."""
    await flush_usage(engine, meter.take, meter.give_back)
    return await anyio.to_thread.run_sync(read_budget, engine, settings, now)


class BudgetCollector(StoreCollector):
    """Month-to-date Bullhorn requests by purpose, the projection and the budget, read at scrape time."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock

    def read(self) -> Iterator[Metric]:
        report = read_budget(self._engine, self._settings, self._clock())
        by_purpose = GaugeMetricFamily("callbridge_bullhorn_requests_month",
                                       "Bullhorn requests sent this month (UTC), by purpose", labels=["purpose"])
        for purpose, requests in report.by_purpose.items():
            by_purpose.add_metric([purpose], requests)
        yield by_purpose
        yield GaugeMetricFamily("callbridge_bullhorn_requests_projected",
                                "Bullhorn requests projected for the whole month at this month's pace",
                                value=report.projected)
        yield GaugeMetricFamily("callbridge_bullhorn_requests_budget",
                                "BULLHORN_MONTHLY_API_BUDGET: requests callbridge may send a month",
                                value=report.budget)
