"""Helpers for the phone index tests: a keeper on the test stack, built to completion."""

from __future__ import annotations

from typing import Any

from insight.lookup.index_reader import IndexSource
from insight.store.phone_index import PhoneIndex
from insight.worker.index_keeper import IndexKeeper
from tests.stack import Stack


def keeper_for(stack: Stack, **options: Any) -> IndexKeeper:
    options.setdefault("owner", "worker-1")
    return IndexKeeper(stack.services.bullhorn, PhoneIndex(stack.store.engine), default_region="US", **options)


def source_for(stack: Stack, **options: Any) -> IndexSource:
    return IndexSource(PhoneIndex(stack.store.engine), default_region="US", excluded_statuses=("Archive", "Archived"),
                       **options)


async def build(keeper: IndexKeeper, *, max_rounds: int = 100) -> int:
    """Run the keeper until its scan is complete; answers the rounds it took."""
    for rounds in range(1, max_rounds + 1):
        if not (await keeper.run_once()).building:
            return rounds
    raise AssertionError(f"index not built after {max_rounds} rounds")


def searches(stack: Stack, entity: str) -> int:
    return stack.bullhorn.faults.requests[f"POST search/{entity}"]


def key(matches: Any) -> list[tuple[str, int, str]]:
    return [(match.entity, match.id, match.phone_field) for match in matches]
