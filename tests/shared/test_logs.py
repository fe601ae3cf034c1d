from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from insight.domain.phones import normalize
from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.people import AGENTS, LINES
from shared.logs import Redactor, configure_from_settings, configure_logging, redact, secret_values
from shared.settings import load_settings
from tests.stack import WEBHOOK_TOKEN, demo_data, running_stack
from tests.stack import test_environ as stack_environ

SECRET = "s3cret-value"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put back what pytest and the other tests had."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    touched = ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")
    saved = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate,
                    logging.getLogger(name).level) for name in touched}
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (old_handlers, propagate, old_level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.propagate = old_handlers, propagate
        logger.setLevel(old_level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("+442079460958", "+44******0958"),
        ("+44 20 7946 0958", "+44******0958"),
        ("%2B14155550123", "+1******0123"),
        ("0044 20 7946 0958", "+44******0958"),
        ("011 44 20 7946 0958", "+44******0958"),
        ("(415) 555-0123", "******0123"),
        ("415.555.0123", "******0123"),
        ("020 7946 0958", "*******0958"),
        ("4155550123", "******0123"),
        ("+1 415.555.0123 x12", "+1******0123 x12"),
    ],
)
def test_phone_numbers_in_every_common_format_keep_only_their_country_code_and_last_four(raw: str, shown: str) -> None:
    assert redact(f"caller {raw} rang") == f"caller {shown} rang"


@pytest.mark.parametrize(
    "text",
    [
        "call 900000123 pushed in 12 ms",
        "at 2026-11-25 10:00:00 and 25/11/2026",
        "from 127.0.0.1:5000",
        "3 matches, 2 more, took 0.25 s",
    ],
)
def test_dates_addresses_durations_and_call_ids_are_left_alone(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("POST https://auth/oauth/token?grant_type=refresh_token&refresh_token=rt-1&client_secret=cs-1", "rt-1"),
        ("POST https://auth/oauth/token?grant_type=refresh_token&refresh_token=rt-1&client_secret=cs-1", "cs-1"),
        ("POST https://rest/login?version=*&access_token=at-123", "at-123"),
        ("POST https://auth/oauth/authorize?username=u&password=pw-9&action=Login", "pw-9"),
        ("GET /cards/12?exp=1795000000&sig=AbC_dEf-123", "AbC_dEf-123"),
        ('answer {"BhRestToken": "bh-tok-1", "restUrl": "https://rest/"}', "bh-tok-1"),
        ("headers {'BhRestToken': 'bh-tok-2'}", "bh-tok-2"),
        ("Authorization: Bearer k3y-abc", "k3y-abc"),
        ("[('authorization', 'Basic ZGVtbzp0b2tlbg==')]", "ZGVtbzp0b2tlbg=="),
        ("postgresql://callbridge:db-pass@db:5432/callbridge", "db-pass"),
        (f"the key {SECRET} leaked", SECRET),
    ],
)
def test_credentials_are_masked_wherever_they_appear(text: str, gone: str) -> None:
    assert gone not in redact(text, [SECRET])


def test_one_json_object_per_line_with_the_extras_masked_too(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", json=True, secrets=[SECRET], stream=stream)
    log = logging.getLogger("callbridge.test")

    log.info("webhook %s for call %s: %s", "call.created", 42, "accepted",
             extra={"call_id": 42, "outcome": "accepted", "event": "call.created", "raw": "+44 20 7946 0958"})
    log.warning("multi\nline %s", SECRET)
    try:
        raise RuntimeError(f"token={SECRET} for +14155550123")
    except RuntimeError:
        log.exception("it failed")

    first, second, third = _lines(stream)
    assert set(first) >= {"ts", "level", "logger", "message", "call_id", "outcome", "event"}
    assert first["ts"].endswith("Z") and first["level"] == "info" and first["logger"] == "callbridge.test"
    assert (first["call_id"], first["outcome"], first["raw"]) == (42, "accepted", "+44******0958")
    assert second["message"] == "multi\nline **********"
    assert "RuntimeError" in third["exc"] and SECRET not in third["exc"] and "4155550123" not in third["exc"]


def test_the_text_format_appends_the_extras(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", json=False, stream=stream)

    logging.getLogger("callbridge.test").info("card pushed", extra={"call_id": 7, "outcome": "pushed"})

    assert stream.getvalue().rstrip().endswith("INFO callbridge.test card pushed call_id=7 outcome=pushed")


def test_configuring_twice_keeps_one_handler_and_routes_uvicorn_through_it(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=io.StringIO())
    configure_logging("WARNING", json=True, stream=stream)
    access = logging.getLogger("uvicorn.access")
    access.addHandler(logging.NullHandler())
    configure_logging("INFO", json=True, stream=stream)

    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/api/insight?phone=%2B14155550123", "1.1", 200)

    assert [handler.get_name() for handler in logging.getLogger().handlers].count("callbridge") == 1
    assert access.handlers == []
    [line] = _lines(stream)
    assert line["message"] == '127.0.0.1:5000 - "GET /api/insight?phone=+1******0123 HTTP/1.1" 200'
    assert logging.getLogger("httpx").level == logging.WARNING


def test_every_secret_setting_is_collected() -> None:
    settings = load_settings(stack_environ("sqlite://", CALLBRIDGE_API_KEY="api-key-1"))

    assert set(secret_values(settings)) == {
        "api-key-1", "test-signing-key-of-at-least-32-bytes", "demo-api-token", "old-token", WEBHOOK_TOKEN,
        "demo-secret", "demo-password",
    }


def test_a_process_started_in_demo_mode_warns_that_card_links_can_be_forged(restore_logging: None) -> None:
    stream = io.StringIO()
    environ = {key: value for key, value in stack_environ("sqlite://").items() if key != "CALLBRIDGE_SIGNING_KEY"}
    settings = load_settings({**environ, "CALLBRIDGE_DEMO": "1", "CALLBRIDGE_PUBLIC_URL": "http://127.0.0.1:8000"})

    configure_from_settings(settings, stream=stream)

    [line] = _lines(stream)
    assert line["level"] == "warning" and "CALLBRIDGE_DEMO=1" in line["message"]


def test_a_filter_run_twice_does_not_mask_twice() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "n=%s", ("+442079460958",), None)
    redactor = Redactor()

    redactor.filter(record)
    redactor.filter(record)

    assert record.getMessage() == "n=+44******0958"


@pytest.mark.anyio
async def test_a_whole_call_logs_its_outcomes_without_a_secret_or_a_full_number(
    tmp_path: Path, restore_logging: None
) -> None:
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    script = CallScript(call_id=900_000_321, kind=CallKind.INBOUND_ANSWERED, agent=AGENTS[0], line=LINES[0],
                        raw_digits=caller.raw_digits, started_at=1_795_000_000, talk_s=95)
    stream = io.StringIO()
    async with running_stack(tmp_path, CALLBRIDGE_LOG_LEVEL="DEBUG") as stack:
        # DEBUG: the worst case, with every library's request lines (httpx logs whole URLs)
        configure_from_settings(stack.settings, stream=stream)
        logging.getLogger().setLevel(logging.DEBUG)
        for logger in ("httpx", "httpcore"):
            logging.getLogger(logger).setLevel(logging.DEBUG)
        for event in lifecycle(script, token=WEBHOOK_TOKEN):
            assert (await stack.deliver(event.envelope)).status_code == 200
        await stack.settle()
        await stack.deliver({**lifecycle(script, token=WEBHOOK_TOKEN)[0].envelope, "token": "wrong-token"})
        answer = await stack.web.get("/api/insight", params={"phone": caller.raw_digits}, headers=stack.api_headers)
        assert answer.status_code == 200
        rest_token = (await stack.services.bullhorn.auth.session()).rest_token

    output = stream.getvalue()
    records = _lines(stream)
    forbidden = [*secret_values(stack.settings), rest_token, "wrong-token"]
    numbers = {caller.e164, caller.e164.lstrip("+"), caller.raw_digits, normalize(caller.raw_digits, "US") or ""}
    assert [secret for secret in forbidden if secret in output] == []
    assert [number for number in numbers if number and number in output] == []
    accepted = [r for r in records if r.get("outcome") == "accepted" and r.get("call_id") == script.call_id]
    assert {record["event"] for record in accepted} >= {"call.created", "call.answered", "call.ended"}
    assert any(r.get("event") == "card_push" and r.get("outcome") == "pushed" for r in records)
    assert any(r.get("event") == "lookup" and r.get("call_id") == script.call_id for r in records)
    assert any(r.get("outcome") == "unauthorized" for r in records)
    assert any(r["logger"] == "httpx" for r in records)
