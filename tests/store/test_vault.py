from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from sqlalchemy import select, update

from insight.domain.session import BullhornSession, SessionVault
from insight.store import Store, StoreVault
from insight.store.sealing import TokenSealer
from insight.store.tables import SESSION_ROW_ID, bullhorn_session

ROOT = Path(__file__).resolve().parents[2]
SEALER = TokenSealer(["k" * 32])
SESSION = BullhornSession(
    rest_token="bh-rest-token",
    rest_url="https://rest91.bullhornstaffing.com/rest-services/abc123/",
    refresh_token="refresh-1",
    ats_url="https://cls91.bullhornstaffing.com",
    oauth_url="https://auth-west.bullhornstaffing.com/oauth",
    expires_at=1795000000.5,
)

# Takes the lock, says so, then dies without releasing it (as a killed process would).
CRASHING_HOLDER = """
import os, sys, anyio
from insight.store import Store, StoreVault
from insight.store.sealing import TokenSealer

async def main() -> None:
    vault = StoreVault(Store(sys.argv[1]), TokenSealer(["k" * 32]), lease_s=0.5)
    await vault.lock().__aenter__()
    print("locked", flush=True)
    os._exit(0)

anyio.run(main)
"""


def test_store_vault_satisfies_the_session_vault_protocol(store: Store) -> None:
    vault: SessionVault = StoreVault(store, SEALER)
    assert vault is not None


@pytest.mark.anyio
async def test_nothing_is_loaded_before_the_first_save(store: Store) -> None:
    assert await StoreVault(store, SEALER).load() is None


@pytest.mark.anyio
async def test_save_then_load_round_trips_the_session_and_bumps_the_version(
    store_factory: Callable[[], Store],
) -> None:
    writer, reader = StoreVault(store_factory(), SEALER), StoreVault(store_factory(), SEALER)

    first = await writer.save(SESSION)
    second = await writer.save(BullhornSession(rest_token="bh-2", rest_url=SESSION.rest_url, version=first.version))
    loaded = await reader.load()

    assert first == BullhornSession(**{**SESSION.__dict__, "version": 1})
    assert second.version == 2
    assert loaded == second
    assert loaded is not None and loaded.refresh_token is None and loaded.expires_at is None


@pytest.mark.anyio
async def test_the_lock_makes_a_second_holder_on_another_store_wait_until_the_first_releases(
    store_factory: Callable[[], Store],
) -> None:
    first, second = StoreVault(store_factory(), SEALER, poll_s=0.01), StoreVault(store_factory(), SEALER, poll_s=0.01)
    order: list[str] = []
    second_started = anyio.Event()

    async def second_holder() -> None:
        second_started.set()
        async with second.lock():
            order.append("second acquired")

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            async with first.lock():
                order.append("first acquired")
                group.start_soon(second_holder)
                await second_started.wait()
                await anyio.sleep(0.3)
                order.append("first releasing")

    assert order == ["first acquired", "first releasing", "second acquired"]


@pytest.mark.anyio
async def test_the_lock_can_be_taken_again_after_release_and_after_a_cancelled_wait(store: Store) -> None:
    vault = StoreVault(store, SEALER, poll_s=0.01)
    with anyio.fail_after(10):
        async with vault.lock():
            with anyio.move_on_after(0.2) as waiting:
                async with vault.lock():
                    pytest.fail("a second holder got in while the lock was held")
            assert waiting.cancelled_caught
        async with vault.lock():
            pass


@pytest.mark.anyio
async def test_a_holder_that_dies_without_releasing_does_not_block_the_next_one(store: Store, store_url: str) -> None:
    holder = subprocess.Popen([sys.executable, "-c", CRASHING_HOLDER, store_url], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        assert holder.wait(timeout=30) == 0
    finally:
        if holder.stdout:
            holder.stdout.close()
    started = time.monotonic()

    with anyio.fail_after(10):
        async with StoreVault(store, SEALER, poll_s=0.02).lock():
            waited_s = time.monotonic() - started

    # SQLite waits out the 0.5 s lease; PostgreSQL released the lock with the dead connection.
    assert waited_s < 5


def _stored_tokens(store: Store) -> tuple[str | None, str | None]:
    with store.engine.connect() as connection:
        row = connection.execute(select(bullhorn_session.c.rest_token, bullhorn_session.c.refresh_token)).one()
    return row.rest_token, row.refresh_token


@pytest.mark.anyio
async def test_bullhorn_tokens_are_sealed_at_rest_and_open_only_with_the_signing_key(store: Store) -> None:
    await StoreVault(store, SEALER).save(SESSION)

    stored = _stored_tokens(store)
    assert all(value is not None and value.startswith("sealed:v1:") for value in stored)
    assert SESSION.rest_token not in str(stored) and "refresh-1" not in str(stored)
    assert await StoreVault(store, TokenSealer(["another-key-of-at-least-32-bytes!"])).load() is None
    loaded = await StoreVault(store, SEALER).load()
    assert loaded is not None and (loaded.rest_token, loaded.refresh_token) == ("bh-rest-token", "refresh-1")


@pytest.mark.anyio
async def test_after_a_key_rotation_the_previous_key_still_opens_the_stored_session(store: Store) -> None:
    await StoreVault(store, SEALER).save(SESSION)

    rotated = TokenSealer(["the-new-signing-key-of-32-bytes-or-more", "k" * 32])
    loaded = await StoreVault(store, rotated).load()

    assert loaded is not None and loaded.rest_token == SESSION.rest_token


@pytest.mark.anyio
async def test_a_session_stored_in_clear_before_sealing_is_read_once_and_sealed_in_place(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(update(bullhorn_session).where(bullhorn_session.c.id == SESSION_ROW_ID).values(
            version=3, rest_token="clear-rest", rest_url=SESSION.rest_url, refresh_token="clear-ref"))

    loaded = await StoreVault(store, SEALER).load()

    assert loaded is not None and (loaded.rest_token, loaded.refresh_token, loaded.version) == (
        "clear-rest", "clear-ref", 3)
    assert all(value is not None and value.startswith("sealed:v1:") for value in _stored_tokens(store))
    again = await StoreVault(store, SEALER).load()
    assert again is not None and (again.rest_token, again.refresh_token) == ("clear-rest", "clear-ref")
