from __future__ import annotations

import pytest
import requests
import responses

from console.client import ServiceClient, ServiceFailed, ServiceUnauthorized, ServiceUnreachable

BASE = "http://callbridge.test"


@responses.activate
def test_health_returns_the_service_answer_and_sends_the_api_key() -> None:
    responses.get(f"{BASE}/healthz", json={"status": "ok"})

    assert ServiceClient(BASE, "key-1").health() == {"status": "ok"}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer key-1"


@responses.activate
def test_a_503_readiness_report_is_an_answer_not_an_error() -> None:
    responses.get(f"{BASE}/readyz", status=503, json={"status": "not_ready", "checks": {"bullhorn": "down"}})

    assert ServiceClient(BASE, None).readiness()["status"] == "not_ready"


@responses.activate
def test_a_refused_api_key_becomes_a_sentence_naming_the_setting() -> None:
    responses.get(f"{BASE}/healthz", status=401, json={"error": "unauthorized", "detail": "bad key"})

    with pytest.raises(ServiceUnauthorized, match="CALLBRIDGE_API_KEY"):
        ServiceClient(BASE, "wrong").health()


@responses.activate
def test_a_server_error_carries_the_status_and_the_service_detail() -> None:
    responses.get(f"{BASE}/healthz", status=500, json={"error": "internal_error", "detail": "database is locked"})

    with pytest.raises(ServiceFailed, match="database is locked") as raised:
        ServiceClient(BASE, None).health()
    assert raised.value.status_code == 500


@responses.activate
def test_a_timeout_says_how_long_the_console_waited() -> None:
    responses.get(f"{BASE}/healthz", body=requests.Timeout())

    with pytest.raises(ServiceUnreachable, match="did not answer within 2 s"):
        ServiceClient(BASE, None, timeout_s=2).health()


@responses.activate
def test_a_refused_connection_asks_whether_web_is_running() -> None:
    responses.get(f"{BASE}/healthz", body=requests.ConnectionError())

    with pytest.raises(ServiceUnreachable, match="web process running"):
        ServiceClient(BASE, None).health()


@responses.activate
def test_a_non_json_answer_is_reported_not_raised_as_a_decode_error() -> None:
    responses.get(f"{BASE}/healthz", body="<html>proxy error</html>")

    with pytest.raises(ServiceFailed, match="not JSON"):
        ServiceClient(BASE, None).health()
