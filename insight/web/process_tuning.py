"""Interpreter settings for a long-running `web` process (not applied when tests build apps).

Measured with bench/ingest.py on 2 cores at 1,000 webhook events/s:

- The cyclic garbage collector's full (gen2) passes walked the ~100,000 objects that start-up
  leaves behind (modules, SQLAlchemy metadata and compiled statements, demo data) and stopped
  the event loop for 50–60 ms every few seconds. `gc.freeze()` after start-up moves them out of
  its sight; full passes then take ~3 ms.
- A thread that released the GIL (for an fsync, a SQLite step, a socket read) waits up to the
  switch interval to get it back while the event loop runs Python code: 5 ms by default, paid by
  every request whose event sits in that commit. 1 ms bounds that wait at a small cost in switches.
"""

from __future__ import annotations

import gc
import sys

#: seconds; the interpreter's default is 0.005
SWITCH_INTERVAL_S = 0.001


def tune_after_startup() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()
