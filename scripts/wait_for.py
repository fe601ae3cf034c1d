"""Wait until a URL answers (any HTTP status), so demo processes start in a sensible order."""

from __future__ import annotations

import sys
import time

import httpx


def wait_for(url: str, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return True
        except httpx.TransportError:
            time.sleep(0.2)
    return False


if __name__ == "__main__":
    target = sys.argv[1]
    if not wait_for(target):
        print(f"gave up waiting for {target}", file=sys.stderr)
        sys.exit(1)
