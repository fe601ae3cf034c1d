from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from console.client import (
    CallNotFound,
    RetryRefused,
    ServiceClient,
    ServiceFailed,
    ServiceUnauthorized,
    ServiceUnreachable,
)

BASE = "http://callbridge.test"


@responses.activate
def test_health_returns_the_service_answer_and_sends_the_api_key() -> None:
    responses.get(f"{BASE}/healthz", json={"status": "ok"})

    assert ServiceClient(BASE, "key-1").health() == {"status": "ok"}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer key-1"


@responses.activate
def test_the_readiness_details_come_from_the_api_health_report_with_the_api_key() -> None:
    responses.get(f"{BASE}/api/health", json={"status": "not_ready", "checks": {"bullhorn": {"ok": False}}})

    assert ServiceClient(BASE, "key-1").readiness()["status"] == "not_ready"
    assert responses.calls[0].request.headers["Authorization"] == "Bearer key-1"


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


@responses.activate
def test_calls_sends_only_the_filters_given_and_returns_the_page() -> None:
    page = {"calls": [{"call_id": 7, "status": "failed"}], "next_cursor": "abc"}
    responses.get(f"{BASE}/api/calls", json=page)

    answer = ServiceClient(BASE, "key-1").calls(status="failed", agent="ada@northwind.test", call_type="missed",
                                                limit=50, cursor="xyz")

    assert answer == page
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer key-1"
    assert parse_qs(urlsplit(str(sent.url)).query) == {
        "status": ["failed"], "agent": ["ada@northwind.test"], "type": ["missed"], "limit": ["50"], "cursor": ["xyz"],
    }


@responses.activate
def test_call_reads_one_call_and_an_unknown_one_is_call_not_found() -> None:
    responses.get(f"{BASE}/api/calls/7", json={"call_id": 7, "events": [], "attempts": []})
    unknown = {"error": "not_found", "detail": "no call 8 has been received"}
    responses.get(f"{BASE}/api/calls/8", status=404, json=unknown)
    client = ServiceClient(BASE, "key-1")

    assert client.call(7)["call_id"] == 7
    with pytest.raises(CallNotFound, match="no call 8 has been received") as raised:
        client.call(8)
    assert raised.value.status_code == 404


@responses.activate
def test_retry_posts_and_returns_the_new_status() -> None:
    responses.post(f"{BASE}/api/calls/7/retry", status=202, json={"call_id": 7, "status": "pending"})

    assert ServiceClient(BASE, "key-1").retry(7)["status"] == "pending"
    assert responses.calls[0].request.method == "POST"


@responses.activate
def test_a_refused_retry_carries_the_services_reason() -> None:
    detail = "call 7 is synced and nothing has changed since its note was written: there is nothing to retry"
    responses.post(f"{BASE}/api/calls/7/retry", status=409, json={"error": "already_synced", "detail": detail})

    with pytest.raises(RetryRefused) as raised:
        ServiceClient(BASE, "key-1").retry(7)
    assert raised.value.detail == detail and raised.value.status_code == 409


@responses.activate
def test_tags_and_summary_return_the_service_answers() -> None:
    responses.get(f"{BASE}/api/tags", json={"actions": ["Sourcing Call"], "tags": []})
    responses.get(f"{BASE}/api/summary", json={"counts": {"synced": 3}})
    client = ServiceClient(BASE, "key-1")

    assert client.tags()["actions"] == ["Sourcing Call"]
    assert client.summary(hours=72)["counts"] == {"synced": 3}
    assert str(responses.calls[1].request.url).endswith("/api/summary?hours=72")


NEW_METHODS = [
    ("GET", "/api/calls", lambda client: client.calls()),
    ("GET", "/api/calls/7", lambda client: client.call(7)),
    ("POST", "/api/calls/7/retry", lambda client: client.retry(7)),
    ("GET", "/api/tags", lambda client: client.tags()),
    ("GET", "/api/summary", lambda client: client.summary()),
]


@pytest.mark.parametrize(("method", "path", "use"), NEW_METHODS)
@responses.activate
def test_every_api_method_turns_401_5xx_and_timeouts_into_clear_errors(method, path, use) -> None:
    client = ServiceClient(BASE, "key-1", timeout_s=3)

    responses.add(method, BASE + path, status=401, json={"error": "unauthorized", "detail": "bad key"})
    with pytest.raises(ServiceUnauthorized, match="CALLBRIDGE_API_KEY"):
        use(client)

    down = {"error": "bullhorn_unavailable", "detail": "Bullhorn down"}
    responses.replace(method, BASE + path, status=503, json=down)
    with pytest.raises(ServiceFailed, match="answered 503 .*Bullhorn down") as raised:
        use(client)
    assert raised.value.status_code == 503

    responses.replace(method, BASE + path, body=requests.Timeout())
    with pytest.raises(ServiceUnreachable, match="did not answer within 3 s"):
        use(client)


@responses.activate
def test_setup_and_setup_fix_wait_longer_than_other_calls_and_send_the_fix_id() -> None:
    responses.get(f"{BASE}/api/setup", json={"checks": [{"id": "bullhorn_login", "status": "ok"}]})
    responses.post(f"{BASE}/api/setup/fix", json={"id": "tags_for_actions", "status": "ok", "changed": True})
    client = ServiceClient(BASE, "key-1", timeout_s=3)

    assert client.setup()["checks"][0]["id"] == "bullhorn_login"
    assert client.setup_fix("create_tags")["changed"] is True
    assert responses.calls[1].request.body == b'{"fix": "create_tags"}'
    responses.replace("GET", f"{BASE}/api/setup", body=requests.Timeout())
    with pytest.raises(ServiceUnreachable, match="did not answer within 60 s"):
        client.setup()
