"""`python -m insight.worker`: the worker process, wired in one place (`main`)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any

import anyio.to_thread

from insight.backfill.periodic import run_periodically
from insight.domain.budget import Purpose, index_poll_interval_s
from insight.store import Store, StoreVault
from insight.store.aircall_hold import StoreAircallHold
from insight.store.usage import flush_usage_forever
from insight.upstream.aircall import open_aircall
from insight.upstream.bullhorn.client import open_bullhorn
from insight.upstream.meter import RequestMeter, metered
from insight.worker.index_keeper import run_index_keeper
from insight.worker.messages import run_messages
from insight.worker.retention import run_retention
from insight.worker.runner import Worker, log
from shared.logs import configure_from_settings
from shared.settings import Settings, SettingsError, load_settings


async def main(settings: Settings) -> None:
    store = Store(settings.database_url)
    try:
        await anyio.to_thread.run_sync(store.migrate)
        meter = RequestMeter()
        flusher = asyncio.create_task(flush_usage_forever(store.engine, meter.take, meter.give_back))
        async with (
            open_bullhorn(settings, StoreVault.for_settings(store, settings), meter=meter) as bullhorn,
            open_aircall(settings, shared=StoreAircallHold(store.engine)) as aircall,
        ):
            worker = Worker(store=store, bullhorn=bullhorn, settings=settings, aircall=aircall)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            log.info("worker %s started (Bullhorn concurrency %d)", worker.worker_id, settings.bullhorn_concurrency)
            # the worker process also keeps the phone index fresh, on the same Bullhorn session
            poll_s = settings.index_poll_s or index_poll_interval_s(
                budget=settings.bullhorn_monthly_api_budget, share=settings.index_budget_share)
            log.info("phone index: polling Bullhorn events every %.0f s (%.0f %% of a %d-request monthly budget)",
                     poll_s, settings.index_budget_share * 100, settings.bullhorn_monthly_api_budget)
            await asyncio.gather(
                _metered(Purpose.note, worker.run(stop)),
                _metered(Purpose.note, run_messages(settings, store.engine, bullhorn, worker.lookup, worker.authors,
                                                    stop=stop)),
                _metered(Purpose.phone_index, run_index_keeper(settings, store, bullhorn, poll_s=poll_s, stop=stop)),
                run_periodically(aircall, store.engine, interval_s=settings.backfill_interval_s,
                                 lookback_s=settings.backfill_lookback_s, stop=stop),
                run_retention(settings, store, stop=stop),
            )
    finally:
        flusher.cancel()
        await asyncio.gather(flusher, return_exceptions=True)
        store.dispose()


async def _metered(purpose: Purpose, work: Coroutine[Any, Any, None]) -> None:
    """Runs `work` with its Bullhorn requests (and those of the tasks it starts) counted as `purpose`."""
    with metered(purpose):
        await work


def cli() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    configure_from_settings(settings)
    asyncio.run(main(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
