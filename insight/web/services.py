"""Everything a request handler needs, built once by the app's lifespan (no module-level state)."""

from __future__ import annotations

from dataclasses import dataclass

from insight.backfill.on_demand import BackfillRuns
from insight.lookup.service import LookupService
from insight.store import Store
from insight.upstream.aircall import AircallClient
from insight.upstream.bullhorn.client import BullhornClient
from insight.upstream.meter import RequestMeter
from insight.web.card_push import CardPusher
from insight.web.metrics import Metrics
from shared.settings import Settings


@dataclass
class Services:
    settings: Settings
    store: Store
    bullhorn: BullhornClient
    aircall: AircallClient
    lookup: LookupService
    cards: CardPusher
    metrics: Metrics
    #: Bullhorn requests counted in this process and not yet stored (the summary flushes it first)
    meter: RequestMeter
    #: on-demand backfill runs started by this process
    backfills: BackfillRuns

    async def ui_base_url(self) -> str:
        """Where record links start: BULLHORN_UI_URL, else loginInfo's atsUrl for this tenant."""
        if self.settings.bullhorn_ui_url:
            return self.settings.bullhorn_ui_url
        session = await self.bullhorn.auth.session()
        if not session.ats_url:
            raise RuntimeError("Bullhorn's loginInfo gave no atsUrl: set BULLHORN_UI_URL")
        return session.ats_url
