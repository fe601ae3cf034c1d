"""Ring → card latency: webhook received by `web` to Insight Card accepted by (the fake) Aircall.

Starts the real processes — the sandbox with Bullhorn answering in `--latency-ms` (80 by default)
and `web` under uvicorn — sends `call.created` webhooks over HTTP and reads when the Aircall fake
received each card. Cold: a number never looked up before; warm: the same numbers again.

With `--index` the worker runs too and builds the phone index first: cold and warm rings are then
answered from the index, and "unknown" rings are warm rings of numbers no record has (the index
says no, the cached "no match" answers).

    .venv/bin/python -m bench.ring_to_card [--cold 60] [--warm 200] [--latency-ms 80] [--index] [--context]

With `--context` it compares cards without and with their context (DESIGN §13): bench.ring_context.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import phonenumbers

from bench.processes import free_port, process, sandbox_args, service_env, wait_until_up, web_args
from insight.domain.matching import PHONE_FIELDS, SEARCH_FIELDS, build_search_query
from insight.domain.phones import normalize
from insight.store import Store, StoreVault
from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.demo_data import build_demo_data
from sandbox.people import AGENTS, LINES
from shared.settings import load_settings

AIRCALL_AUTH = ("demo-api-id", "demo-api-token")
POLL_S = 0.01
#: Bullhorn searches timed alone, for numbers no ring uses (half one search, half a lookup's two)
ROUND_TRIPS = 60


def caller_numbers(limit: int) -> list[str]:
    """Distinct numbers of live demo records, as Aircall writes raw_digits."""
    numbers: list[str] = []
    for record in build_demo_data().candidates.values():
        if record.get("isDeleted") or record.get("status") == "Archived" or not record.get("mobile"):
            continue
        try:
            parsed = phonenumbers.parse(record["mobile"], "US")
        except phonenumbers.NumberParseException:
            continue
        raw = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        if phonenumbers.is_valid_number(parsed) and raw not in numbers:
            numbers.append(raw)
        if len(numbers) == limit:
            break
    return numbers


def unknown_numbers(known: list[str], limit: int) -> list[str]:
    """Valid US numbers next to `known` ones that no demo record holds, as Aircall writes raw_digits.

    (US only: the tenant's region, in which every stored form of a US number reads as its E.164.)
    """
    data = build_demo_data()
    taken = {normalize(str(record[name]), "US") for entity, table in (("Candidate", data.candidates),
                                                                      ("ClientContact", data.contacts))
             for record in table.values() for name in PHONE_FIELDS[entity] if record.get(name)}
    numbers: list[str] = []
    for raw in known:
        e164 = phonenumbers.format_number(phonenumbers.parse(raw), phonenumbers.PhoneNumberFormat.E164)
        if not e164.startswith("+1"):
            continue
        for last in "0123456789":
            parsed = phonenumbers.parse(e164[:-1] + last)
            if phonenumbers.is_valid_number(parsed) and e164[:-1] + last not in taken:
                numbers.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
                break
        if len(numbers) == limit:
            break
    return numbers


def wait_index_ready(http: httpx.Client, web: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = http.get(f"{web}/api/summary", headers={"Authorization": "Bearer bench-api-key"})
        if answer.status_code == 200 and answer.json()["index"]["ready"]:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the phone index was not ready within {timeout_s:g} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def ring(http: httpx.Client, web: str, sandbox: str, call_id: int, raw_digits: str) -> float:
    """Send call.created; the ms until the Aircall fake received the call's first card."""
    return ring_at(http, web, sandbox, call_id, raw_digits)[1]


def ring_at(http: httpx.Client, web: str, sandbox: str, call_id: int, raw_digits: str) -> tuple[float, float]:
    """Send call.created; answer (when it was sent, epoch s; ms until the first card)."""
    script = CallScript(
        call_id=call_id, kind=CallKind.INBOUND_ANSWERED, agent=AGENTS[0], line=LINES[0],
        raw_digits=raw_digits, started_at=int(time.time()), talk_s=30,
    )
    created = lifecycle(script, token="demo-webhook-token")[0].envelope
    http.post(f"{sandbox}/aircall/_sandbox/calls", json=created["data"], auth=AIRCALL_AUTH).raise_for_status()
    sent_at = time.time()
    answer = http.post(f"{web}/webhooks/aircall", json=created)
    if answer.json() != {"status": "accepted"}:
        raise RuntimeError(f"webhook not accepted: {answer.text}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cards = http.get(f"{sandbox}/aircall/_sandbox/cards", params={"call_id": call_id}, auth=AIRCALL_AUTH)
        found = cards.json()["cards"]
        if found:
            return sent_at, (float(found[0]["received_at"]) - sent_at) * 1000
        # the figure is the fake's own time of receipt, so a slower poll changes no figure, only how much
        # of the two cores the bench takes from the processes it measures
        time.sleep(POLL_S)
    raise RuntimeError(f"no card for call {call_id} within 10 s")


def bullhorn_round_trips(env: dict[str, str], numbers: list[str]) -> tuple[list[float], list[float]]:
    """Bullhorn searches as the service sends them, on its session, for numbers the fake was never asked
    about (it keeps its answers: one repeated query would time its cache): one Candidate search per
    number, then a lookup's two searches (Candidate and ClientContact) sent together per number.

    The pair is what a cold ring waits for. Bullhorn answers requests side by side; the fake is one
    Python process, so the second of two waits for the first one's scan: the pair's time is the fake's,
    not callbridge's, and the cold ring's overhead is counted over it."""
    store = Store(env["DATABASE_URL"])
    try:
        session = asyncio.run(StoreVault.for_settings(store, load_settings(env)).load())  # tokens are sealed
    finally:
        store.dispose()
    if session is None:
        raise RuntimeError("the service has no Bullhorn session")

    async def search(http: httpx.AsyncClient, entity: str, raw_digits: str) -> None:
        e164 = phonenumbers.format_number(phonenumbers.parse(raw_digits), phonenumbers.PhoneNumberFormat.E164)
        answer = await http.post(
            f"{session.rest_url}search/{entity}", params={"fields": SEARCH_FIELDS[entity], "count": 50},
            json={"query": build_search_query(entity, e164, ("Archive", "Archived"))},
            headers={"BhRestToken": session.rest_token},
        )
        answer.raise_for_status()

    async def timed(http: httpx.AsyncClient, entities: tuple[str, ...], raw_digits: str) -> float:
        started = time.perf_counter()
        await asyncio.gather(*(search(http, entity, raw_digits) for entity in entities))
        return (time.perf_counter() - started) * 1000

    async def measure() -> tuple[list[float], list[float]]:
        half = len(numbers) // 2
        async with httpx.AsyncClient(timeout=10) as http:
            single = [await timed(http, ("Candidate",), raw) for raw in numbers[:half]]
            pair = [await timed(http, ("Candidate", "ClientContact"), raw) for raw in numbers[half:]]
        return single, pair

    return asyncio.run(measure())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=60)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--index", action="store_true", help="run the worker and ring once its phone index is built")
    parser.add_argument("--context", action="store_true",
                        help="compare cards without and with their context (DESIGN §13): bench.ring_context")
    args = parser.parse_args()
    if args.context:
        from bench.ring_context import print_comparison

        print_comparison(caller_numbers(args.cold), warm=args.warm, latency_ms=args.latency_ms)
        return

    sandbox_port, web_port = free_port(), free_port()
    sandbox, web = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{web_port}"
    known = caller_numbers(args.cold + ROUND_TRIPS)
    numbers, unrung = known[:args.cold], known[args.cold:]
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "bench.db"
        env = service_env(sandbox_url=sandbox, web_url=web, database_url=f"sqlite:///{database}")
        with process(sandbox_args(sandbox_port, bullhorn_latency_ms=args.latency_ms)):
            wait_until_up(f"{sandbox}/")
            with ExitStack() as stack, process(web_args(web_port), env=env), httpx.Client(timeout=10) as http:
                if args.index:
                    stack.enter_context(process([sys.executable, "-m", "insight.worker"], env=env))
                wait_until_up(f"{web}/healthz")
                if args.index:
                    wait_index_ready(http, web)
                http.patch(f"{sandbox}/aircall/_sandbox/config", json={"requests_per_minute": None}, auth=AIRCALL_AUTH)
                ready = http.get(f"{web}/readyz").json()
                if ready["status"] != "ready":
                    raise RuntimeError(f"web is not ready: {ready}")
                # the service logs in to Bullhorn on its first search: one for a number no ring uses
                http.get(f"{web}/api/insight", params={"phone": "+1 415-555-0100"},
                         headers={"Authorization": "Bearer bench-api-key"}).raise_for_status()
                round_trip, pair = bullhorn_round_trips(env, unrung)
                cold = [ring(http, web, sandbox, 10_000 + index, raw) for index, raw in enumerate(numbers)]
                warm = [
                    ring(http, web, sandbox, 20_000 + index, numbers[index % min(20, len(numbers))])
                    for index in range(args.warm)
                ]
                unknown = unknown_numbers(numbers, 20) if args.index else []
                for index, raw in enumerate(unknown):  # the first ring of each searches live: not counted
                    ring(http, web, sandbox, 30_000 + index, raw)
                unknown_warm = [
                    ring(http, web, sandbox, 40_000 + index, unknown[index % len(unknown)])
                    for index in range(args.warm if unknown else 0)
                ]

    print(f"ring -> card, Bullhorn latency {args.latency_ms:g} ms (web under uvicorn, SQLite, sandbox on loopback)")
    print(f"{'measure':<34}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}")
    source = "index" if args.index else "live search"
    rows = [("one Bullhorn search round trip", round_trip), ("a lookup's two searches together", pair),
            (f"cold ring -> card ({source})", cold),
            (f"warm ring -> card ({'index' if args.index else 'cache'})", warm)]
    if unknown_warm:
        rows.append(("warm ring -> card (unknown, cache)", unknown_warm))
    for name, values in rows:
        print(f"{name:<34}{len(values):>6}{statistics.median(values):>10.1f}{percentile(values, 0.99):>10.1f}")
    for name, base in (("one search", round_trip), ("the two together", pair)) if not args.index else ():
        overhead_p50 = statistics.median(cold) - statistics.median(base)
        overhead_p99 = percentile(cold, 0.99) - percentile(base, 0.99)
        print(f"{'cold overhead over ' + name:<34}{'':>6}{overhead_p50:>10.1f}{overhead_p99:>10.1f}")


if __name__ == "__main__":
    main()
