"""An open-loop HTTP/1.1 load generator: requests leave on a fixed schedule whatever the answers.

Latency is measured from when a request was *scheduled*, not from when a connection was free to
send it, so a server that falls behind shows its queue in p99 instead of slowing the client down
(coordinated omission). The client keeps a bounded pool of keep-alive connections and does the
least it can per request: httpx's AsyncClient tops out near 500 requests/s per process on the
2-core bench machine, and there every cycle the client spends is taken from the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

#: answers are classified by these markers in the body (the webhook answers `{"status": …}`)
_OUTCOMES = (b'"accepted"', b'"duplicate"', b'"ignored"')


@dataclass(frozen=True)
class Step:
    rate_per_s: float
    duration_s: float


@dataclass
class StepResult:
    target_per_s: float
    sent: int = 0
    ok: int = 0
    errors: int = 0
    unanswered: int = 0
    achieved_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)

    def sustained(self, *, share: float = 0.98, p99_limit_ms: float = 50.0) -> bool:
        return self.achieved_per_s >= share * self.target_per_s and self.p99_ms <= p99_limit_ms and not self.errors


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        try:
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await self._reader.readexactly(length) if length else b""
            if b"connection: close" in head.lower():
                self.close()
            return status, body
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def build_request(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"User-Agent: callbridge-bench\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def run_steps(
    host: str,
    port: int,
    requests: Sequence[bytes],
    steps: Sequence[Step],
    *,
    connections: int = 64,
    drain_s: float = 10.0,
    pause_s: float = 1.0,
) -> list[StepResult]:
    """Play `requests` (full HTTP requests, in order) over the steps; stop after two missed steps.

    The first step is a warm-up (connections, caches): it is played and returned, never judged.
    """
    pool = [_Connection(host, port) for _ in range(connections)]
    results: list[StepResult] = []
    offset = 0
    missed = 0
    try:
        for step in steps:
            count = int(step.rate_per_s * step.duration_s)
            if offset + count > len(requests):
                raise ValueError(f"{len(requests)} requests are too few for the steps ({offset + count} needed)")
            result = await _run_step(pool, requests[offset : offset + count], step, drain_s)
            results.append(result)
            offset += count
            missed = 0 if result.sustained() or not results[1:] else missed + 1
            if missed == 2:
                break
            await asyncio.sleep(pause_s)
    finally:
        for connection in pool:
            connection.close()
    return results


async def _run_step(pool: list[_Connection], requests: Sequence[bytes], step: Step, drain_s: float) -> StepResult:
    loop = asyncio.get_running_loop()
    # uvloop's loop.time() has millisecond resolution and is cached per loop turn
    clock = time.perf_counter
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    latencies: list[float] = []
    result = StepResult(target_per_s=step.rate_per_s)
    outcomes = dict.fromkeys(("accepted", "duplicate", "ignored", "other"), 0)
    last_answer = 0.0

    async def work(connection: _Connection) -> None:
        nonlocal last_answer
        while True:
            scheduled_at, request = await queue.get()
            try:
                status, body = await connection.exchange(request)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
            else:
                last_answer = clock()
                latencies.append(last_answer - scheduled_at)
                if status == 200:
                    result.ok += 1
                    kind = next((o.strip(b'"').decode() for o in _OUTCOMES if o in body), "other")
                    outcomes[kind] += 1
                else:
                    result.errors += 1
            finally:
                queue.task_done()

    workers = [loop.create_task(work(connection)) for connection in pool]
    started = clock()
    interval_s = 1.0 / step.rate_per_s
    sent = 0
    while sent < len(requests):
        due = min(len(requests), int((clock() - started) / interval_s) + 1)
        for index in range(sent, due):
            queue.put_nowait((started + index * interval_s, requests[index]))
        sent = due
        await asyncio.sleep(max(0.0, started + sent * interval_s - clock()))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(queue.join(), timeout=drain_s)
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    result.sent = sent
    result.unanswered = sent - result.ok - result.errors
    result.errors += result.unanswered
    result.outcomes = {name: count for name, count in outcomes.items() if count}
    if latencies:
        ordered = sorted(latencies)
        result.p50_ms = statistics.median(ordered) * 1000
        result.p99_ms = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000
        result.max_ms = ordered[-1] * 1000
        # the step lasts until its last answer: a server that falls behind stretches it
        result.achieved_per_s = result.ok / max(last_answer - started, len(requests) * interval_s)
    return result
