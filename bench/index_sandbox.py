"""The sandbox process of `bench.index`: both fakes over a tenant of `--records` people, under uvicorn.

`python -m sandbox serve` holds the 825-record demo tenant; this serves the same app over a tenant
of any size, Bullhorn answering in `--latency-ms` and limited to Bullhorn's 1,500 requests a minute
(a 25-a-second bucket: stricter than the minute), and writes a sample of the tenant's live numbers
to `--numbers` for the benchmark to ring. It listens only once the tenant is built and analysed.

    python -m bench.index_sandbox --records 1000000 --port 8100 --numbers numbers.json
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from bench.index_tenant import live_numbers, tenant
from sandbox.aircall import AircallSandboxConfig
from sandbox.bullhorn import BullhornSandbox, BullhornSandboxConfig, analyzer_for
from sandbox.server import build_sandbox_app

#: Bullhorn's documented per-minute limit (reference/bullhorn.md, Limits), as a per-second bucket
BULLHORN_PER_MINUTE = 1_500


def sandbox_of(app: Starlette) -> BullhornSandbox:
    """The Bullhorn fake's live state inside the combined app (mounted at /bullhorn)."""
    [mount] = [route for route in app.routes if isinstance(route, Mount) and route.path == "/bullhorn"]
    fake: BullhornSandbox = mount.app.app.state.sandbox  # type: ignore[attr-defined]
    return fake


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--numbers", type=Path, required=True, help="where to write the sample of live numbers")
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()

    started = time.perf_counter()
    data = tenant(args.records)
    bullhorn = BullhornSandboxConfig(latency_ms=args.latency_ms, rate_limit_per_s=BULLHORN_PER_MINUTE / 60)
    app = build_sandbox_app(demo_data=data, bullhorn_config=bullhorn,
                            aircall_config=AircallSandboxConfig(requests_per_minute=None))
    fake = sandbox_of(app)
    for entity in ("Candidate", "ClientContact"):
        # analysed now, as Bullhorn's own index already is, rather than inside the first page's 80 ms
        fake.documents(entity, analyzer_for(entity), lambda record: record)
    args.numbers.write_text(json.dumps({
        "candidates": len(data.candidates), "contacts": len(data.contacts), "companies": len(data.companies),
        "numbers": live_numbers(data, args.sample),
    }))
    # millions of long-lived objects: keep them out of every full collection
    gc.collect()
    gc.freeze()
    print(f"tenant of {args.records:,} records ready in {time.perf_counter() - started:.0f} s", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
