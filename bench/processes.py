"""Start the real processes (sandbox, web) on free loopback ports for a benchmark, and stop them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout_s:g} s")


@contextmanager
def process(
    args: list[str], *, env: Mapping[str, str] | None = None, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    output = open(log, "wb") if log else subprocess.DEVNULL
    child = subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=output, stderr=subprocess.STDOUT
    )
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        if log:
            output.close()  # type: ignore[union-attr]


def sandbox_args(port: int, *, bullhorn_latency_ms: float, extra: Sequence[str] = ()) -> list[str]:
    """`python -m sandbox serve` on `port`; `extra` adds its other flags (e.g. `--webhook-url`)."""
    return [sys.executable, "-m", "sandbox", "serve", "--port", str(port),
            "--bullhorn-latency-ms", str(bullhorn_latency_ms), *extra]


def web_args(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "insight.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]


def service_env(*, sandbox_url: str, web_url: str, database_url: str) -> dict[str, str]:
    """The demo's settings (demo.env), pointed at this run's sandbox and database."""
    return {
        "DATABASE_URL": database_url,
        "CALLBRIDGE_DEMO": "1",
        "CALLBRIDGE_API_KEY": "bench-api-key",
        "CALLBRIDGE_PUBLIC_URL": web_url,
        "AIRCALL_API_URL": f"{sandbox_url}/aircall",
        "AIRCALL_API_ID": "demo-api-id",
        "AIRCALL_API_TOKEN": "demo-api-token",
        "AIRCALL_WEBHOOK_TOKEN": "demo-webhook-token",
        "BULLHORN_REST_URL": f"{sandbox_url}/bullhorn/rest-services",
        "BULLHORN_CLIENT_ID": "callbridge-demo",
        "BULLHORN_CLIENT_SECRET": "demo-secret",
        "BULLHORN_USERNAME": "northwind.api",
        "BULLHORN_PASSWORD": "demo-password",
    }
