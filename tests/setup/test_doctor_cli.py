from __future__ import annotations

import copy
import io
from pathlib import Path

import httpx
import pytest

from insight.__main__ import doctor_command, main
from insight.domain.setup_checks import NEEDED_EVENTS
from sandbox.aircall import AircallSandboxConfig, create_aircall_app
from sandbox.bullhorn import create_bullhorn_app
from shared.settings import load_settings
from tests.stack import demo_data
from tests.stack import test_environ as stack_environ


async def run_doctor(tmp_path: Path, *, webhook_events: list[str] | None) -> tuple[int, str]:
    settings = load_settings(stack_environ(f"sqlite:///{tmp_path / 'callbridge.db'}"))
    aircall = create_aircall_app(AircallSandboxConfig(requests_per_minute=None))
    if webhook_events is not None:
        aircall.state.sandbox.webhooks.add(url="http://callbridge.test/webhooks/aircall", events=webhook_events,
                                           token="test-webhook-token")
    bullhorn = create_bullhorn_app(copy.deepcopy(demo_data()))
    out = io.StringIO()
    code = await doctor_command(settings, out=out, bullhorn_transport=httpx.ASGITransport(app=bullhorn),
                                aircall_transport=httpx.ASGITransport(app=aircall))
    return code, out.getvalue()


@pytest.mark.anyio
async def test_the_doctor_exits_non_zero_while_a_check_fails_and_prints_the_fix(tmp_path: Path) -> None:
    code, printed = await run_doctor(tmp_path, webhook_events=None)

    assert code == 1
    assert "[ FAIL] Aircall webhook: No Aircall webhook sends to http://callbridge.test/webhooks/aircall" in printed
    assert "fix `register_webhook`" in printed
    assert "[  ok ] Bullhorn login" in printed


@pytest.mark.anyio
async def test_the_doctor_exits_zero_when_only_warnings_remain(tmp_path: Path) -> None:
    code, printed = await run_doctor(tmp_path, webhook_events=list(NEEDED_EVENTS))

    assert code == 0
    assert "[  ok ] Aircall webhook" in printed and "[ WARN] Aircall agents" in printed
    assert "0 failing" in printed


def test_an_unknown_command_prints_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 2
    assert "python -m insight doctor" in capsys.readouterr().err
