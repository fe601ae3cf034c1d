from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from sandbox.bullhorn import BullhornSandboxConfig
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.anyio


async def test_healthz_answers_without_touching_bullhorn(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        response = await stack.web.get("/healthz")

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert stack.bullhorn.auth.logins == 0


def _login_requests(stack: Stack) -> int:
    return sum(count for endpoint, count in stack.bullhorn.faults.requests.items() if "authorize" in endpoint)


async def test_readyz_answers_one_word_in_public_and_the_details_need_the_api_key(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await stack.services.bullhorn.auth.session()
        public = await stack.web.get("/readyz")
        anonymous = await stack.web.get("/api/health")
        report = await stack.web.get("/api/health", headers=stack.api_headers)

    assert (public.status_code, public.json()) == (200, {"status": "ready"})
    assert anonymous.status_code == 401
    checks = report.json()["checks"]
    assert checks["store"] == {"ok": True, "dialect": "sqlite"}
    assert checks["bullhorn"]["session"] == "established"
    assert checks["bullhorn"]["rest_host"] == "127.0.0.1"
    assert checks["bullhorn"]["expires_at"].endswith("Z")


async def test_readyz_never_logs_in_to_bullhorn(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        answers = [await stack.web.get("/readyz") for _ in range(20)]

        assert {answer.status_code for answer in answers} == {200}
        assert _login_requests(stack) == 0 and stack.bullhorn.auth.logins == 0


async def test_after_a_refused_login_readyz_is_not_ready_and_nothing_logs_in_again_within_the_backoff(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path, bullhorn_config=BullhornSandboxConfig(password="rotated")) as stack:
        first = await stack.web.get("/api/insight", params={"phone": "+14155550123"}, headers=stack.api_headers)
        answers = [await stack.web.get("/readyz") for _ in range(20)]
        again = await stack.web.get("/api/insight", params={"phone": "+14155550124"}, headers=stack.api_headers)
        report = await stack.web.get("/api/health", headers=stack.api_headers)

        assert first.status_code == again.status_code == 503
        assert {(answer.status_code, answer.text) for answer in answers} == {(503, '{"status":"not_ready"}')}
        assert _login_requests(stack) == 1
    bullhorn = report.json()["checks"]["bullhorn"]
    assert bullhorn["ok"] is False
    assert "BULLHORN_PASSWORD" in bullhorn["detail"]
    assert bullhorn["retry_at"].endswith("Z")


async def test_the_session_is_kept_in_the_store_and_reused_by_a_second_app(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as first:
        await first.services.bullhorn.auth.session()
        logins = first.bullhorn.auth.logins
        session = await first.services.bullhorn.auth.session()
    assert logins == 1
    async with running_stack(tmp_path) as second:
        reused = await second.services.bullhorn.auth.session()
    assert reused.rest_token == session.rest_token


@pytest.mark.postgres
async def test_a_read_only_database_makes_readyz_not_ready_and_the_report_says_why(
    tmp_path: Path, store_url: str
) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite files stay writable for root; PostgreSQL can be made read-only for everyone")
    async with running_stack(tmp_path, database_url=store_url) as stack:
        assert (await stack.web.get("/readyz")).status_code == 200
        database = stack.store.engine.url.database
        with stack.store.engine.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on'))
            connection.commit()
        stack.store.engine.dispose()  # new connections take the new default

        public = await stack.web.get("/readyz")
        report = await stack.web.get("/api/health", headers=stack.api_headers)

    assert (public.status_code, public.json()) == (503, {"status": "not_ready"})
    store = report.json()["checks"]["store"]
    assert store["ok"] is False and "refuses writes" in store["detail"] and "read-only" in store["detail"]


async def test_metrics_answer_only_the_allowed_networks_when_some_are_named(tmp_path: Path) -> None:
    async with running_stack(tmp_path, CALLBRIDGE_METRICS_ALLOW="10.0.0.0/8, 192.168.1.7") as stack:
        # httpx's ASGITransport presents the client as 127.0.0.1
        refused = await stack.web.get("/metrics")
    async with running_stack(tmp_path, CALLBRIDGE_METRICS_ALLOW="127.0.0.0/8") as stack:
        allowed = await stack.web.get("/metrics")

    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    assert allowed.status_code == 200 and "callbridge_webhooks_total" in allowed.text
