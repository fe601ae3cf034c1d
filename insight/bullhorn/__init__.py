"""Bullhorn REST: the session (`BullhornAuth`), the calls (`BullhornClient`) and the error tree."""

from __future__ import annotations

from insight.bullhorn.auth import BullhornAuth
from insight.bullhorn.client import BullhornClient, CreateResult, open_bullhorn, quote_jpql
from insight.bullhorn.errors import (
    AuthenticationFailed,
    SessionExpiredDuringWrite,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
    explain,
    explain_aircall,
)
from insight.bullhorn.login import BullhornCredentials

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
    "quote_jpql",
]
