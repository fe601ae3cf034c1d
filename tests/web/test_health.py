from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.bullhorn import BullhornSandboxConfig
from tests.stack import running_stack

pytestmark = pytest.mark.anyio


async def test_healthz_answers_without_touching_bullhorn(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        response = await stack.web.get("/healthz")

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert stack.bullhorn.auth.logins == 0


async def test_readyz_reports_the_bullhorn_session_established_against_the_sandbox(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        response = await stack.web.get("/readyz")

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ready"
        assert body["checks"]["store"] == {"ok": True, "dialect": "sqlite"}
        assert body["checks"]["bullhorn"]["session"] == "established"
        assert body["checks"]["bullhorn"]["rest_host"] == "bullhorn.test"
        assert body["checks"]["bullhorn"]["expires_at"].endswith("Z")


async def test_readyz_says_which_setting_to_check_when_bullhorn_refuses_the_password(tmp_path: Path) -> None:
    async with running_stack(tmp_path, bullhorn_config=BullhornSandboxConfig(password="rotated")) as stack:
        response = await stack.web.get("/readyz")

        assert response.status_code == 503
        bullhorn = response.json()["checks"]["bullhorn"]
        assert bullhorn["ok"] is False
        assert "BULLHORN_PASSWORD" in bullhorn["detail"]


async def test_the_session_is_kept_in_the_store_and_reused_by_a_second_app(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as first:
        assert (await first.web.get("/readyz")).status_code == 200
        logins = first.bullhorn.auth.logins
        session = await first.services.bullhorn.auth.session()
    assert logins == 1
    async with running_stack(tmp_path) as second:
        reused = await second.services.bullhorn.auth.session()
    assert reused.rest_token == session.rest_token

