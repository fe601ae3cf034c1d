"""`python -m insight doctor`: the setup doctor at a terminal (the checks of `GET /api/setup`).

Exits 0 when no check fails (warnings allowed), 1 while any check fails, 2 on bad usage or settings.
"""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack
from typing import TextIO

import anyio
import anyio.to_thread
import httpx

from insight.domain.budget import BudgetReport
from insight.domain.setup_checks import Check, any_fail
from insight.lookup.index_reader import IndexSource
from insight.setup.doctor import Doctor
from insight.store import Store, StoreVault
from insight.store.aircall_hold import StoreAircallHold
from insight.store.phone_index import PhoneIndex
from insight.store.tables import utcnow
from insight.store.usage import flush_usage
from insight.upstream.aircall import open_aircall
from insight.upstream.bullhorn.client import open_bullhorn
from insight.web.budget import read_budget
from insight.web.setup_api import index_facts_of
from shared.settings import Settings, SettingsError, load_settings

_MARKS = {"ok": "  ok ", "warn": " WARN", "fail": " FAIL"}


def describe(check: Check) -> str:
    lines = [f"[{_MARKS[check.status]}] {check.title}: {check.detail}"]
    if check.fix:
        lines.append(f"         fix `{check.fix}`: {check.fix_description} "
                     f"(console Setup page, or POST /api/setup/fix {{\"fix\": \"{check.fix}\"}})")
    return "\n".join(lines)


async def doctor_command(settings: Settings, *, out: TextIO = sys.stdout,
                         bullhorn_transport: httpx.AsyncBaseTransport | None = None,
                         aircall_transport: httpx.AsyncBaseTransport | None = None) -> int:
    async with AsyncExitStack() as stack:
        store = Store(settings.database_url)
        stack.callback(store.dispose)
        await anyio.to_thread.run_sync(store.migrate)
        bullhorn = await stack.enter_async_context(
            open_bullhorn(settings, StoreVault.for_settings(store, settings), transport=bullhorn_transport))
        aircall = await stack.enter_async_context(open_aircall(
            settings, transport=aircall_transport, shared=StoreAircallHold(store.engine)))
        index = IndexSource(PhoneIndex(store.engine), default_region=settings.default_region,
                            excluded_statuses=settings.excluded_statuses)

        async def budget() -> BudgetReport:
            if bullhorn.meter is not None:  # the doctor's own requests count too
                await flush_usage(store.engine, bullhorn.meter.take, bullhorn.meter.give_back)
            return await anyio.to_thread.run_sync(read_budget, store.engine, settings, utcnow())

        checks = await Doctor(settings=settings, bullhorn=bullhorn, aircall=aircall, store=store,
                              index=index_facts_of(index), budget=budget).run()
    for check in checks:
        print(describe(check), file=out)
    failed = [check for check in checks if check.status == "fail"]
    warned = [check for check in checks if check.status == "warn"]
    print(f"\n{len(checks)} checks: {len(failed)} failing, {len(warned)} warning.", file=out)
    return 1 if any_fail(checks) else 0


def main(argv: list[str]) -> int:
    if argv != ["doctor"]:
        print("usage: python -m insight doctor", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"callbridge is misconfigured: {error}", file=sys.stderr)
        return 2

    async def run() -> int:
        return await doctor_command(settings)

    return anyio.run(run)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
