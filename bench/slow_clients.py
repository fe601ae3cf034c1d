"""Slow clients: 300 stalled webhook bodies against `web` started exactly as Procfile starts it.

Starts `uvicorn insight.app:create_app --factory` (no protective flags; the body deadline is the app's
own setting), opens `--clients` loopback connections that each declare a 900 KB webhook body, send
all of it but the last byte and stall, and meanwhile probes `/healthz` every 200 ms. Prints the web
process's RSS growth, the slowest `/healthz` answer, and when each stalled connection was closed
(DESIGN §14: RSS growth ≤ 50 MiB, /healthz < 1 s, every stalled body closed within 35 s).

    .venv/bin/python -m bench.slow_clients [--clients 300] [--body-kib 900] [--body-timeout-s 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.processes import free_port, process, service_env, wait_until_up, web_args

PATH = "/webhooks/aircall"
#: the whole run is bounded: a connection still open after this is reported as never closed
GIVE_UP_S = 60.0


@dataclass
class Outcome:
    closed_after_s: float | None = None
    status: int | None = None


@dataclass
class Probes:
    healthz_s: list[float] = field(default_factory=list)
    healthz_failures: int = 0
    rss_kib: list[int] = field(default_factory=list)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def stalled_client(port: int, body_bytes: int, started: float) -> Outcome:
    outcome = Outcome()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        outcome.closed_after_s = time.monotonic() - started
        return outcome
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {body_bytes}\r\n\r\n"
    ).encode()
    body = b'{"token": "' + b"x" * (body_bytes - 12)  # one byte short: the client stalls before the end

    async def send() -> None:
        try:
            writer.write(head + body)
            await writer.drain()
        except OSError:
            pass

    sender = asyncio.create_task(send())
    try:
        answer = await asyncio.wait_for(reader.read(), timeout=GIVE_UP_S)  # until the server closes
        outcome.closed_after_s = time.monotonic() - started
        if answer.startswith(b"HTTP/1.1 "):
            outcome.status = int(answer[9:12])
    except OSError:  # reset: the server closed with our bytes unread
        outcome.closed_after_s = time.monotonic() - started
    except TimeoutError:
        pass
    finally:
        sender.cancel()
        writer.close()
    return outcome


async def probe(port: int, pid: int, probes: Probes, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as http:
        while not stop.is_set():
            began = time.monotonic()
            try:
                answer = await http.get("/healthz", headers={"Connection": "close"})
                if answer.status_code != 200:
                    probes.healthz_failures += 1
            except httpx.HTTPError:
                probes.healthz_failures += 1
            probes.healthz_s.append(time.monotonic() - began)
            probes.rss_kib.append(rss_kib(pid))
            await asyncio.sleep(0.2)


async def run(port: int, pid: int, clients: int, body_bytes: int) -> tuple[list[Outcome], Probes]:
    probes = Probes()
    stop = asyncio.Event()
    prober = asyncio.create_task(probe(port, pid, probes, stop))
    await asyncio.sleep(1.0)
    started = time.monotonic()
    outcomes = await asyncio.gather(*(stalled_client(port, body_bytes, started) for _ in range(clients)))
    stop.set()
    await prober
    return list(outcomes), probes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--body-kib", type=int, default=900)
    parser.add_argument("--body-timeout-s", type=float, default=None, help="CALLBRIDGE_BODY_TIMEOUT_S (unset: 30)")
    options = parser.parse_args()
    if not 1 <= options.clients <= 1000:
        parser.error("--clients must be between 1 and 1000")
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        env = service_env(
            sandbox_url=f"http://127.0.0.1:{free_port()}",  # nothing here calls Bullhorn or Aircall
            web_url=f"http://127.0.0.1:{port}",
            database_url=f"sqlite:///{scratch}/slow.db",
        )
        if options.body_timeout_s is not None:
            env["CALLBRIDGE_BODY_TIMEOUT_S"] = str(options.body_timeout_s)
        with process(web_args(port), env=env) as web:
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
            baseline = rss_kib(web.pid)
            outcomes, probes = asyncio.run(run(port, web.pid, options.clients, options.body_kib * 1024))
    closed = [outcome.closed_after_s for outcome in outcomes if outcome.closed_after_s is not None]
    statuses: dict[str, int] = {}
    for outcome in outcomes:
        key = str(outcome.status) if outcome.status else ("reset" if outcome.closed_after_s else "open")
        statuses[key] = statuses.get(key, 0) + 1
    growth_mib = (max(probes.rss_kib) - baseline) / 1024
    print(f"{options.clients} stalled clients, {options.body_kib} KiB bodies (all but the last byte sent)")
    print(f"web RSS: {baseline / 1024:.0f} MiB before, peak {max(probes.rss_kib) / 1024:.0f} MiB, "
          f"growth {growth_mib:.1f} MiB (target ≤ 50)")
    print(f"/healthz: {len(probes.healthz_s)} probes, median {statistics.median(probes.healthz_s) * 1000:.0f} ms, "
          f"max {max(probes.healthz_s) * 1000:.0f} ms, {probes.healthz_failures} failed (target < 1 s)")
    print(f"closed: {len(closed)}/{len(outcomes)}, median {statistics.median(closed):.1f} s, "
          f"max {max(closed):.1f} s (target ≤ 35 s); answers {dict(sorted(statuses.items()))}")


if __name__ == "__main__":
    main()
