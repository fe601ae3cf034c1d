"""Signed card links: hostile signatures are 403 before any lookup, rotation keeps old links, framing is limited."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from insight.web.signing import card_url
from tests.stack import running_stack
from tests.worker_kit import caller, play, script

pytestmark = pytest.mark.anyio

CALL = 7_400_001
PREVIOUS_KEY = "the-key-being-rotated-out-32-bytes-long"


async def test_non_ascii_or_unicode_digit_link_parameters_are_403_json_before_the_call_is_looked_up(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack:
        good = httpx.URL(card_url("http://x", CALL, key=stack.settings.signing_key.get(), now=time.time())).params
        hostile = [
            {"exp": good["exp"], "sig": "é" * len(good["sig"])},
            {"exp": "²", "sig": good["sig"]},
            {"exp": "٣" * 10, "sig": good["sig"]},
        ]
        for params in hostile:  # CALL was never received: a 404 here would tell ids apart
            answer = await stack.web.get(f"/cards/{CALL}", params=params)
            assert (answer.status_code, answer.json()["error"]) == (403, "forbidden"), params


async def test_links_signed_with_the_previous_key_open_during_a_rotation_and_framing_is_limited(
    tmp_path: Path,
) -> None:
    async with running_stack(
        tmp_path, CALLBRIDGE_SIGNING_KEY_PREVIOUS=PREVIOUS_KEY, CALLBRIDGE_CARD_FRAME_ANCESTORS="https://crm.example"
    ) as stack:
        await play(stack, script(CALL, caller("candidate").raw_digits))
        old_link = httpx.URL(card_url("http://x", CALL, key=PREVIOUS_KEY, now=time.time())).params

        page = await stack.web.get(f"/cards/{CALL}", params=dict(old_link))

    assert page.status_code == 200
    assert page.headers["content-security-policy"].endswith("frame-ancestors https://crm.example")
