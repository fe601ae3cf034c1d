"""The console's test doubles: its `server.address` and the service's HTTP API faked at the `requests` layer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from streamlit import config

BASE = "http://callbridge.test"


@pytest.fixture
def served_on(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The console's `server.address` (as `--server.address` sets it); loopback unless a test says otherwise."""
    address = getattr(request, "param", "127.0.0.1")
    before = config.get_option("server.address")
    config.set_option("server.address", address)
    yield address
    config.set_option("server.address", before)


@pytest.fixture
def console_api(monkeypatch: pytest.MonkeyPatch, served_on: str | None) -> Iterator[responses.RequestsMock]:
    """The service at BASE with the console's key, no password (loopback, as the demo runs it); each test
    module adds the routes its pages read."""
    monkeypatch.delenv("CALLBRIDGE_CONSOLE_PASSWORD", raising=False)
    monkeypatch.setenv("CALLBRIDGE_API_URL", BASE)
    monkeypatch.setenv("CALLBRIDGE_API_KEY", "console-key")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BASE}/healthz", json={"status": "ok"})
        yield mock
