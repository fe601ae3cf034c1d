from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.exc import OperationalError

from insight.store.scrape import StoreCollector


class Calls(StoreCollector):
    def __init__(self, count: int | None) -> None:
        self.count = count

    def read(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("callbridge_test_first", "read before the store failed", value=1)
        if self.count is None:
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        yield GaugeMetricFamily("callbridge_test_calls", "calls in the store", value=self.count)


def scrape(collector: StoreCollector) -> str:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(collector)
    return generate_latest(registry).decode()


def test_a_store_collector_reports_what_the_store_holds() -> None:
    assert "callbridge_test_calls 7.0" in scrape(Calls(7))


def test_a_store_that_fails_mid_read_leaves_the_scrape_answering_without_half_the_families() -> None:
    text = scrape(Calls(None))

    assert "callbridge_test_first" not in text and "callbridge_test_calls" not in text
