"""Signed, expiring links to a call's HTML card (`/cards/{call_id}?exp=…&sig=…`).

The card page is opened from Aircall or embedded without an API key, so the link itself is the
credential: an HMAC over the call id and the expiry, checked in constant time. During a key
rotation links signed with the previous key (`CALLBRIDGE_SIGNING_KEY_PREVIOUS`) stay good.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import urlencode

#: long enough to outlast a long call and its wrap-up; short enough that a leaked link dies soon
CARD_LINK_TTL_S = 12 * 3600


def _signature(call_id: int, exp: int, key: str) -> str:
    digest = hmac.new(key.encode(), f"card:{call_id}:{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def card_url(public_url: str, call_id: int, *, key: str, now: float, ttl_s: int = CARD_LINK_TTL_S) -> str:
    exp = int(now) + ttl_s
    query = urlencode({"exp": exp, "sig": _signature(call_id, exp, key)})
    return f"{public_url.rstrip('/')}/cards/{call_id}?{query}"


def verify_card_link(
    call_id: int, exp: str | None, sig: str | None, *, keys: Sequence[str], now: float
) -> str | None:
    """None when the link is good, else the reason it is refused (for the 403 body)."""
    if not exp or not sig:
        return "the card link is missing its exp or sig parameter"
    if not (exp.isascii() and exp.isdigit()) or len(exp) > 12:
        return "the card link's exp is not a timestamp"
    expires = int(exp)
    presented = sig.encode("utf-8", "replace")  # bytes: compare_digest refuses non-ASCII str
    matched = False
    for key in keys:  # every key, no early exit: timing says nothing about which one signed
        matched |= hmac.compare_digest(_signature(call_id, expires, key).encode(), presented)
    if not matched:
        return "the card link's signature does not match"
    if expires < now:
        return "the card link has expired; reopen the card from the call"
    return None
