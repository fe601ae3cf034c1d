"""`/metrics` for the monitoring network only, when `CALLBRIDGE_METRICS_ALLOW` names it (DESIGN §14).

The peer is the TCP client uvicorn saw: behind a reverse proxy that is the proxy, so restrict
`/metrics` at the proxy there, or list the proxy's address here.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

from insight.web.api_errors import ApiError
from shared.settings import Settings


def require_metrics_client(request: Request, settings: Settings) -> None:
    if not settings.metrics_allow:
        return
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not any(address in ipaddress.ip_network(network) for network in settings.metrics_allow):
        raise ApiError(403, "/metrics answers only the networks in CALLBRIDGE_METRICS_ALLOW")
