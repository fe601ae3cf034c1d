"""Figures for /metrics read from the store at scrape time.

Workers are other processes without an HTTP server, and what they do ends in the store, so `web`
reads it there at each scrape. A scrape must still answer while the store is down (`/readyz`
reports that), so a failed read yields nothing rather than a 500.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError


class StoreCollector(Collector):
    """A collector whose families come from one store read; nothing at all when that read fails."""

    @abstractmethod
    def read(self) -> Iterable[Metric]:
        """Read the store and build the families (blocking: the registry calls it in the scrape)."""

    def collect(self) -> Iterator[Metric]:
        try:
            families = list(self.read())
        except SQLAlchemyError:
            return
        yield from families

    def describe(self) -> Iterator[Metric]:
        # families come and go with the store's content (e.g. the scan's total): nothing to pre-declare
        return iter(())
