"""The fault suite (issue 7): `python -m bench.faults [--short] [--case NAME] [--calls N]`.

Real processes on 127.0.0.1 (the sandbox, `web`, one or more `worker`s; PostgreSQL from
scripts/pg_tmp.py for the PostgreSQL cases), one line per case: calls, how they ended, duplicate
notes (calls with more than one note by externalID) and lost calls (a simulated call missing from
the store or not ended there, or ended with no note and neither `unmatched` nor `failed`/`dead`
with an explanation). Exits 1 if any case has a duplicate, a lost or an unsettled call.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from bench.faults_cases import CASES, NEEDS_POSTGRES, Run
from bench.faults_stack import Tally
from scripts import pg_tmp

#: calls per case; the long form takes a few minutes in all, the short one under a minute
LONG_CALLS = {"sigkill": 400, "bullhorn_down": 400, "rate_limited": 400, "postgres_restart": 600,
              "four_workers": 2_000, "webhook_gap": 300}
SHORT_CALLS = {"sigkill": 30, "bullhorn_down": 30, "rate_limited": 30, "postgres_restart": 40, "four_workers": 60,
               "webhook_gap": 30}
#: the short form's two lanes, side by side: about as long as each other
SHORT_LANES = (("sigkill", "bullhorn_down", "rate_limited"), ("postgres_restart", "four_workers", "webhook_gap"))


def run_cases(names: list[str], *, short: bool, calls: int | None = None, keep: Path | None = None) -> list[Tally]:
    """Run the named cases; every process is stopped before this returns.

    The long form runs them one after another, so that each case's seconds are its own. The short
    form runs them in two lanes side by side (`SHORT_LANES`, the PostgreSQL cases in one): most of a
    case is waiting (backoffs, a lease running out), and no two cases share a process or a database.
    """
    root = keep or Path(tempfile.mkdtemp(prefix="callbridge-faults-"))
    postgres: pg_tmp.TempPostgres | None = None
    try:
        if any(name in NEEDS_POSTGRES for name in names):
            postgres = pg_tmp.start()
        runs = [Run(workdir=root / name, calls=calls or (SHORT_CALLS if short else LONG_CALLS)[name], short=short,
                    postgres=postgres) for name in names]
        lanes = [[run for run in runs if run.workdir.name in lane] for lane in SHORT_LANES] if short else [runs]
        with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
            done = pool.map(_run_lane, [lane for lane in lanes if lane])
            tallies = {tally.case: tally for lane in done for tally in lane}
    finally:
        if postgres is not None:
            pg_tmp.stop(postgres.directory)
    if keep is None and all(tally.ok for tally in tallies.values()):
        shutil.rmtree(root, ignore_errors=True)  # on failure the logs stay for a look
    return [tallies[name] for name in names]


def _run_lane(runs: list[Run]) -> list[Tally]:
    tallies = []
    for run in runs:
        name = run.workdir.name
        started = time.monotonic()
        try:
            with ExitStack() as exits:
                tally = asyncio.run(CASES[name](exits, run))
        except Exception as error:  # one broken case must not hide the others' figures
            tally = Tally(name, seconds=round(time.monotonic() - started, 1),
                          note=f"crashed: {type(error).__name__}: {error}")
        if not tally.ok:
            tally.note = f"{tally.note}; logs in {run.workdir}".lstrip("; ")
        print(tally.line(), flush=True)
        tallies.append(tally)
    return tallies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="small cases (the test suite's form)")
    parser.add_argument("--case", choices=sorted(CASES), action="append", help="run only this case (repeatable)")
    parser.add_argument("--calls", type=int, default=None, help="calls per case (default: sized per case)")
    parser.add_argument("--keep", type=Path, default=None, help="write the processes' logs here")
    args = parser.parse_args(argv)
    names = args.case or list(CASES)
    if pg_tmp.find_binaries() is None and any(name in NEEDS_POSTGRES for name in names):
        print("PostgreSQL binaries not found (set PG_BIN); the PostgreSQL cases cannot run", file=sys.stderr)
        return 2
    tallies = run_cases(names, short=args.short, calls=args.calls, keep=args.keep)
    failed = [tally.case for tally in tallies if not tally.ok]
    verdict = f"; failed: {', '.join(failed)}" if failed else ""
    print(f"{len(tallies) - len(failed)}/{len(tallies)} cases ok{verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
