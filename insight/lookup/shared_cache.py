"""The Redis tier of the lookup cache (`REDIS_URL`), shared by every `web` replica.

The tier sits on the ring path and a miss only means asking Bullhorn, so a slow or absent Redis
must cost milliseconds and never an error: tight timeouts, no client-side retries (a retry would
double the wait), and `LookupService` skips the tier for a while after it fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from insight.lookup.service import SharedCache

#: a loopback or same-zone Redis answers in well under a millisecond; 50 ms means it is in trouble
SOCKET_TIMEOUT_S = 0.05
#: a new connection may need a TCP handshake across the zone, still far below a Bullhorn search
CONNECT_TIMEOUT_S = 0.2


@asynccontextmanager
async def open_redis_cache(url: str) -> AsyncIterator[SharedCache]:
    """A Redis client for `url` configured for the ring path; closed on exit."""
    client = redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )
    try:
        yield cast(SharedCache, client)
    finally:
        await client.aclose()
