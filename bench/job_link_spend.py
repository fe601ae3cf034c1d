"""Bullhorn requests a call costs for its card's context and its note's job link: `python -m bench.job_link_spend`.

Real processes (sandbox, web, worker) on a fresh SQLite store: `--calls` candidate calls ring (the
card and its context), end, and are written as notes by the worker. The sandbox's request log is
read once the cards settled and again once every note is written: per call, the card's context
reads (the person's notes, the pipeline's JobSubmission and Placement queries) and, in the worker,
the pipeline queries of the job link and the note writes (`PUT entity/Note`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.processes import free_port, process, sandbox_args, service_env, wait_until_up, web_args
from bench.ring_to_card import AIRCALL_AUTH, caller_numbers
from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.people import AGENTS, LINES

PIPELINE = ("GET query/JobSubmission", "GET query/Placement")


def _requests(http: httpx.Client, sandbox: str) -> Counter[str]:
    answer = http.get(f"{sandbox}/bullhorn/_sandbox/requests").json()
    return Counter({endpoint: int(count) for endpoint, count in answer["endpoints"].items()})


def _play(http: httpx.Client, web: str, sandbox: str, call_id: int, raw_digits: str) -> None:
    script = CallScript(call_id=call_id, kind=CallKind.INBOUND_ANSWERED, agent=AGENTS[0], line=LINES[0],
                        raw_digits=raw_digits, started_at=int(time.time()), talk_s=30)
    for scheduled in lifecycle(script, token="demo-webhook-token"):
        envelope = scheduled.envelope
        if envelope["event"] == "call.created":
            http.post(f"{sandbox}/aircall/_sandbox/calls", json=envelope["data"], auth=AIRCALL_AUTH).raise_for_status()
        if http.post(f"{web}/webhooks/aircall", json=envelope).json() != {"status": "accepted"}:
            raise RuntimeError(f"webhook of call {call_id} not accepted")


def _wait_synced(http: httpx.Client, web: str, call_ids: list[int], timeout_s: float = 120.0) -> None:
    headers = {"Authorization": "Bearer bench-api-key"}
    waiting, deadline = set(call_ids), time.monotonic() + timeout_s
    while waiting and time.monotonic() < deadline:
        for call_id in sorted(waiting):
            if http.get(f"{web}/api/calls/{call_id}", headers=headers).json().get("status") in ("synced", "unmatched"):
                waiting.discard(call_id)
        time.sleep(0.5)
    if waiting:
        raise RuntimeError(f"{len(waiting)} calls not written within {timeout_s:g} s")


def measure(calls: int) -> tuple[Counter[str], Counter[str]]:
    """The sandbox's requests during the rings (cards settled), and during the notes."""
    sandbox_port, web_port = free_port(), free_port()
    sandbox, web = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{web_port}"
    with tempfile.TemporaryDirectory() as scratch:
        env = service_env(sandbox_url=sandbox, web_url=web, database_url=f"sqlite:///{Path(scratch) / 'bench.db'}")
        env["CALLBRIDGE_NOTE_SETTLE_S"] = "1"
        with process(sandbox_args(sandbox_port, bullhorn_latency_ms=0)):
            wait_until_up(f"{sandbox}/")
            with process(web_args(web_port), env=env), httpx.Client(timeout=10) as http:
                wait_until_up(f"{web}/healthz")
                http.patch(f"{sandbox}/aircall/_sandbox/config", json={"requests_per_minute": None}, auth=AIRCALL_AUTH)
                start = _requests(http, sandbox)
                call_ids = [50_000 + index for index in range(calls)]
                for call_id, raw in zip(call_ids, caller_numbers(calls), strict=True):
                    _play(http, web, sandbox, call_id, raw)
                time.sleep(3)  # the refreshed cards: their context is read
                rung = _requests(http, sandbox)
                with process([sys.executable, "-m", "insight.worker"], env=env):
                    _wait_synced(http, web, call_ids)
                    written = _requests(http, sandbox)
    return rung - start, written - rung


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    rung, written = measure(args.calls)
    per_call = {
        "card context: notes": sum(count for endpoint, count in rung.items() if endpoint.endswith("/notes")),
        "card context: pipeline queries": sum(rung[endpoint] for endpoint in PIPELINE),
        "note: job link's pipeline queries": sum(written[endpoint] for endpoint in PIPELINE),
        "note: writes (PUT entity/Note)": written["PUT entity/Note"],
    }
    print(f"{args.calls} candidate calls, each rung, ended and written (web + worker + sandbox, SQLite)")
    print(f"{'Bullhorn requests':<40}{'total':>8}{'per call':>10}")
    for name, total in per_call.items():
        print(f"{name:<40}{total:>8}{total / args.calls:>10.2f}")


if __name__ == "__main__":
    main()
