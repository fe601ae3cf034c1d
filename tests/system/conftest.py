"""Fixtures of the browser tests (tests/system/test_e2e_*.py): each module gets its own demo processes,
so what one module plays (calls, faults, fixes) never shows in another's screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e_kit import Demo, chromium, demo_processes


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with demo_processes(tmp_path_factory.mktemp("demo")) as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched
