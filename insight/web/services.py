"""Everything a request handler needs, built once by the app's lifespan (`insight.app`) and handed to
each request as Starlette lifespan state: `request.state.services` (no module-level state)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from insight.backfill.on_demand import BackfillRuns
from insight.lookup.context import ContextService
from insight.lookup.index_reader import IndexSource
from insight.lookup.service import LookupService
from insight.store import Store
from insight.upstream.action_list import ActionListCache
from insight.upstream.aircall import AircallClient
from insight.upstream.bullhorn.client import BullhornClient
from insight.upstream.meter import RequestMeter
from insight.web.card_push import CardPusher
from insight.web.intake_writer import IntakeWriter
from insight.web.metrics import Metrics
from insight.web.webhook_tokens import AcceptedTokens
from shared.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    bullhorn: BullhornClient
    aircall: AircallClient
    #: the webhook tokens accepted: AIRCALL_WEBHOOK_TOKEN and those of webhooks callbridge registered
    webhook_tokens: AcceptedTokens
    lookup: LookupService
    #: the card's context (DESIGN §13): last contact, colleagues on the line, the pipeline
    context: ContextService
    intake: IntakeWriter
    index: IndexSource
    #: Bullhorn's note actions for the tags page, cached per app (tests build many apps per process)
    action_list: ActionListCache
    #: where record links start (`insight.web.ui_base.UiBaseUrl`)
    ui_base_url: Callable[[], Awaitable[str]]
    cards: CardPusher
    metrics: Metrics
    #: Bullhorn requests counted in this process and not yet stored (the summary flushes it first)
    meter: RequestMeter
    #: on-demand backfill runs started by this process
    backfills: BackfillRuns
