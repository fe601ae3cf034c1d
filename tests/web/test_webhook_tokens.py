from __future__ import annotations

import pytest

from insight.web.webhook_tokens import AcceptedTokens
from shared.settings import Secret

pytestmark = pytest.mark.anyio


class Stored:
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.reads = 0

    def __call__(self) -> list[str]:
        self.reads += 1
        return list(self.tokens)


async def test_a_configured_token_is_accepted_without_reading_the_store() -> None:
    stored = Stored()
    tokens = AcceptedTokens((Secret("env-token"),), stored)

    assert await tokens.accepts("env-token") is True
    assert stored.reads == 0


async def test_a_token_stored_by_another_process_is_accepted_once_the_store_is_read_again() -> None:
    stored, now = Stored(), [100.0]
    tokens = AcceptedTokens((), stored, refresh_s=5.0, clock=lambda: now[0])
    assert await tokens.accepts("registered") is False

    stored.tokens.append("registered")
    refused_while_fresh = await tokens.accepts("registered")
    now[0] += 5.0

    assert refused_while_fresh is False
    assert await tokens.accepts("registered") is True
    assert await tokens.accepts("registered") is True and stored.reads == 2


async def test_a_flood_of_forged_tokens_reads_the_store_once_per_refresh_period() -> None:
    stored, now = Stored(), [100.0]
    tokens = AcceptedTokens((Secret("env-token"),), stored, refresh_s=5.0, clock=lambda: now[0])

    answers = [await tokens.accepts(f"forged-{n}") for n in range(50)]

    assert not any(answers) and stored.reads == 1
    assert await tokens.accepts("") is False and await tokens.accepts(None) is False and stored.reads == 1
