"""One fixture per DESIGN §10 reading, parametrised from `sandbox.readings`: a test asking for it runs under both."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.readings import reading


def both_readings(field: str) -> Any:
    """A fixture answering each reading of the config `field` in turn: `id_range = both_readings("id_range")`."""

    @pytest.fixture(params=reading(field).choices)
    def fixture(request: pytest.FixtureRequest) -> str:
        value: str = request.param
        return value

    return fixture
