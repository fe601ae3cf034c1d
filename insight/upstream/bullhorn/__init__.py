"""Bullhorn REST: the session (`BullhornAuth`), the calls (`BullhornClient`) and the error tree."""

from __future__ import annotations

from insight.upstream.bullhorn.auth import BullhornAuth
from insight.upstream.bullhorn.client import BullhornClient, CreateResult, open_bullhorn
from insight.upstream.bullhorn.login import BullhornCredentials
from insight.upstream.errors import (
    AuthenticationFailed,
    SessionExpiredDuringWrite,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
    explain,
    explain_aircall,
)

__all__ = [
    "AuthenticationFailed",
    "BullhornAuth",
    "BullhornClient",
    "BullhornCredentials",
    "CreateResult",
    "SessionExpiredDuringWrite",
    "UpstreamError",
    "UpstreamRejected",
    "UpstreamUnavailable",
    "explain",
    "explain_aircall",
    "open_bullhorn",
]
