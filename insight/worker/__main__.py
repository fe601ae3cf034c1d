"""`python -m insight.worker`: the worker process, wired in one place (`main`)."""

from __future__ import annotations

import asyncio
import signal
import sys

import anyio.to_thread

from insight.store import Store, StoreVault
from insight.upstream.bullhorn.client import open_bullhorn
from insight.worker.index_keeper import run_index_keeper
from insight.worker.retention import run_retention
from insight.worker.runner import Worker, log
from shared.logs import configure_from_settings
from shared.settings import Settings, SettingsError, load_settings


async def main(settings: Settings) -> None:
    store = Store(settings.database_url)
    try:
        await anyio.to_thread.run_sync(store.migrate)
        async with open_bullhorn(settings, StoreVault.for_settings(store, settings)) as bullhorn:
            worker = Worker(store=store, bullhorn=bullhorn, settings=settings, lease_s=settings.worker_lease_s)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            log.info("worker %s started (Bullhorn concurrency %d)", worker.worker_id, settings.bullhorn_concurrency)
            # the worker process also keeps the phone index fresh, on the same Bullhorn session
            await asyncio.gather(worker.run(stop), run_index_keeper(settings, store, bullhorn, stop=stop),
                                 run_retention(settings, store, stop=stop))
    finally:
        store.dispose()


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
