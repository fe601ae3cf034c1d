from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from responses.matchers import query_param_matcher
from streamlit.testing.v1 import AppTest

from console.views.tags import fix_for
from tests.console.conftest import BASE

APP = str(Path(__file__).resolve().parents[2] / "console" / "app.py")

READY = {
    "status": "ready",
    "checks": {"store": {"ok": True, "dialect": "sqlite"}, "bullhorn": {"ok": True, "session": "established"}},
}
SUMMARY = {
    "counts": {"pending": 1, "syncing": 0, "synced": 2, "retrying": 0, "failed": 1, "unmatched": 0, "dead": 0},
    "queue": {"depth": 1, "due": 1, "oldest_pending_age_s": 12.0},
    "latency": {"window_hours": 24, "samples": 2, "p50_s": 35.0, "p95_s": 80.0},
    "cards": {"pushed": 4, "failed": 0},
    "index": {"ready": False, "scan": 1, "records_indexed": 400, "records_total": 825, "eta_s": 90.0, "lag_s": None},
    "bullhorn_requests": {"month": "2026-11", "by_purpose": {"lookup": 1200, "note": 300, "index": 0, "setup": 0,
                          "backfill": 0, "session": 4, "other": 0}, "total": 1504, "projected": 45_120,
                          "budget": 100_000, "index_allowance": 10_000, "over_budget": False, "warning": None},
    "timeline": [
        {"hour": "2026-11-25T09:00:00Z", "calls": 3, "pending": 0, "syncing": 0, "synced": 2, "retrying": 0,
         "failed": 1, "unmatched": 0, "dead": 0, "latency_p50_s": 35.0, "latency_p95_s": 80.0},
        {"hour": "2026-11-25T10:00:00Z", "calls": 1, "pending": 1, "syncing": 0, "synced": 0, "retrying": 0,
         "failed": 0, "unmatched": 0, "dead": 0, "latency_p50_s": None, "latency_p95_s": None},
    ],
}
EXPLANATION = "Bullhorn refused the note: CorporateUser 12 (ada@northwind.test) is disabled; enable the user"
CALLS = [
    {"call_id": 1003, "status": "failed", "explanation": EXPLANATION, "direction": "inbound", "type": "inbound",
     "agent_email": "ada@northwind.test", "raw_digits": "+1 415-555-0123", "started_at": "2026-11-25T09:40:00Z",
     "match": {"entity": "Candidate", "id": 42, "name": "Ada Lovelace"}, "note_id": None, "action": None},
    {"call_id": 1002, "status": "synced", "explanation": None, "direction": "outbound", "type": "outbound",
     "agent_email": "grace@northwind.test", "raw_digits": "+44 20 7946 0958", "started_at": "2026-11-25T09:20:00Z",
     "match": None, "note_id": 901, "action": "Sourcing Call"},
]
ATTEMPT = {"kind": "create", "status_code": 400, "outcome": "error", "error": "UpstreamRejected",
           "explanation": EXPLANATION, "started_at": "2026-11-25T09:44:00Z"}
DETAIL = {
    **CALLS[0],
    "note_link": None,
    "card_url": f"{BASE}/cards/1003?exp=1&sig=x",
    "flags": {},
    "tags": [],
    "events": [{"event": "call.ended", "timestamp": "2026-11-25T09:43:00Z", "received_at": "2026-11-25T09:43:31Z"}],
    "attempts": [ATTEMPT],
}
TAGS = {
    "actions": ["Sourcing Call", "BD Call"],
    "actions_stale": False,
    "tags": [
        {"tag": "Sourcing Call", "calls": 5, "action": "Sourcing Call", "problem": None, "suggestion": None},
        {"tag": "sourcing call", "calls": 3, "action": "sourcing call", "problem": "case_mismatch",
         "suggestion": "Sourcing Call"},
        {"tag": "Follow up with hiring manager re Q3 contract roles", "calls": 1, "action": None,
         "problem": "too_long", "suggestion": None},
    ],
}


@pytest.fixture
def service(console_api: responses.RequestsMock) -> Iterator[responses.RequestsMock]:
    """The service's HTTP API, faked at the `requests` layer the console uses."""
    console_api.get(f"{BASE}/api/health", json=READY)
    console_api.get(f"{BASE}/api/summary", json=SUMMARY)
    console_api.get(f"{BASE}/api/calls", json={"calls": CALLS, "next_cursor": None})
    console_api.get(f"{BASE}/api/calls/1003", json=DETAIL)
    console_api.get(f"{BASE}/api/tags", json=TAGS)
    yield console_api


def _run() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=10)
    app.run()
    assert not app.exception
    return app


def _texts(elements: Any) -> str:
    return "\n".join(str(element.value) for element in elements)


def test_the_calls_table_shows_the_calls_the_api_returns_with_status_badges(service: responses.RequestsMock) -> None:
    app = _run()

    table = app.dataframe[0].value
    assert list(table["call"]) == [1003, 1002]
    assert list(table["status"]) == ["🔴 failed", "🟢 synced"]
    assert table["explanation"][0] == EXPLANATION
    assert all(call.request.headers["Authorization"] == "Bearer console-key" for call in service.calls)
    assert {metric.label: metric.value for metric in app.metric}["Failed"] == "1"


def test_the_header_shows_the_phone_index_build_progress_and_eta(service: responses.RequestsMock) -> None:
    app = _run()

    assert "Phone index building: 400 / 825 records, about 90 s left" in _texts(app.caption)


def test_the_header_shows_the_bullhorn_api_meter_with_its_projection(service: responses.RequestsMock) -> None:
    app = _run()

    line = next(str(caption.value) for caption in app.caption if "Bullhorn API" in str(caption.value))
    assert "1,504 requests so far — lookup 1,200, note 300, session 4" in line
    assert "projected 45,120 of 100,000 (45% of the budget)" in line
    assert not [warning for warning in app.warning if "pace" in str(warning.value)]


def test_the_header_warns_when_the_projection_exceeds_the_budget(service: responses.RequestsMock) -> None:
    over = {**SUMMARY["bullhorn_requests"], "projected": 130_000, "over_budget": True,  # type: ignore[dict-item]
            "warning": "At this pace callbridge will send 130,000 Bullhorn requests in 2026-11, over the budget"}
    service.replace(responses.GET, f"{BASE}/api/summary", json={**SUMMARY, "bullhorn_requests": over})
    app = _run()

    assert any("over the budget" in str(warning.value) for warning in app.warning)


def test_the_header_says_plainly_when_the_phone_index_is_off_and_why(service: responses.RequestsMock) -> None:
    reason = "Bullhorn refused the event subscription; ring-time lookups search Bullhorn live"
    index = {"ready": False, "scan": 0, "records_indexed": 0, "records_total": None, "off_reason": reason}
    service.replace(responses.GET, f"{BASE}/api/summary", json={**SUMMARY, "index": index})

    app = _run()

    assert any(f"Phone index off:** {reason}." in str(warning.value) for warning in app.warning)


def test_a_failed_call_shows_its_explanation_prominently(service: responses.RequestsMock) -> None:
    app = _run()

    app.selectbox(key="selected_call").select(1003).run()

    assert not app.exception
    assert EXPLANATION in app.error[0].value
    assert "a person must fix the cause" in app.error[0].value


def test_a_call_that_synced_after_a_failure_does_not_headline_the_old_failure(
    service: responses.RequestsMock,
) -> None:
    service.replace(responses.GET, f"{BASE}/api/calls/1003", json={**DETAIL, "status": "synced", "explanation": None})
    app = _run()

    app.selectbox(key="selected_call").select(1003).run()

    assert not app.exception
    assert not app.error
    assert EXPLANATION not in _texts(app.success)
    assert "the note in Bullhorn is up to date" in _texts(app.success)


def test_retry_calls_the_api_and_shows_the_outcome(service: responses.RequestsMock) -> None:
    retry = service.post(f"{BASE}/api/calls/1003/retry", status=202,
                         json={"call_id": 1003, "status": "pending", "detail": "queued"})
    app = _run()
    app.selectbox(key="selected_call").select(1003).run()

    app.button(key="retry-1003").click().run()

    assert retry.call_count == 1
    assert "now **pending**" in _texts(app.success)


def test_a_refused_retry_says_why_instead_of_failing(service: responses.RequestsMock) -> None:
    detail = "call 1003 is synced and nothing has changed since its note was written: there is nothing to retry"
    service.post(f"{BASE}/api/calls/1003/retry", status=409, json={"error": "already_synced", "detail": detail})
    app = _run()
    app.selectbox(key="selected_call").select(1003).run()

    app.button(key="retry-1003").click().run()

    assert not app.exception
    assert detail in _texts(app.warning)


def test_the_filters_reach_the_api(service: responses.RequestsMock) -> None:
    app = _run()

    app.selectbox(key="filter_status").select("failed").run()

    assert service.calls[-1].request.url == f"{BASE}/api/calls?status=failed&limit=50"


def test_load_more_follows_the_cursor_and_appends_the_next_page(service: responses.RequestsMock) -> None:
    first = {"calls": CALLS[:1], "next_cursor": "page-2"}
    service.replace(responses.GET, f"{BASE}/api/calls", json=first, match=[query_param_matcher({"limit": "50"})])
    second = {"calls": CALLS[1:], "next_cursor": None}
    service.get(f"{BASE}/api/calls", json=second, match=[query_param_matcher({"limit": "50", "cursor": "page-2"})])
    app = _run()
    assert list(app.dataframe[0].value["call"]) == [1003]

    app.button(key="load_more").click().run()

    assert list(app.dataframe[0].value["call"]) == [1003, 1002]
    assert not [button for button in app.button if button.key == "load_more"]


def test_the_tags_page_flags_a_tag_that_differs_from_an_action_only_by_case(service: responses.RequestsMock) -> None:
    app = _run()

    app.sidebar.radio(key="page").set_value("Tags").run()

    assert not app.exception
    warnings = _texts(app.warning)
    assert "Rename the Aircall tag `sourcing call` to `Sourcing Call`" in warnings
    assert "or add `sourcing call` to commentActionList" in warnings
    assert "longer than 30 characters" in warnings
    assert list(app.dataframe[0].value["problem"]) == [
        "ok", "differs from an action only by case", "longer than 30 characters",
    ]


def test_the_charts_page_draws_from_the_summary_timeline(service: responses.RequestsMock) -> None:
    app = _run()

    app.sidebar.radio(key="page").set_value("Charts").run()

    assert not app.exception and not app.error
    assert "from 2 synced calls" in _texts(app.caption)


def test_an_unreachable_service_is_a_banner_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, served_on: str | None
) -> None:
    monkeypatch.setenv("CALLBRIDGE_API_URL", BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for path in ("/healthz", "/api/health", "/api/summary", "/api/calls", "/api/tags"):
            mock.get(BASE + path, body=requests.ConnectionError("refused"))
        app = _run()
        banners = _texts(app.error)
        app.sidebar.radio(key="page").set_value("Tags").run()

    assert "The service is unreachable" in banners and "is the web process running?" in banners
    assert not app.exception and "The service is unreachable" in _texts(app.error)


@pytest.mark.parametrize(
    ("tag", "fix"),
    [
        ({"tag": "Cold Call", "problem": "not_an_action", "suggestion": None},
         "Add `Cold Call` to Bullhorn's commentActionList, or rename the Aircall tag to one of its actions."),
        ({"tag": "BD Calls", "problem": "not_an_action", "suggestion": "BD Call"},
         "Rename the Aircall tag `BD Calls` to `BD Call` (the closest action), "
         "or add `BD Calls` to commentActionList."),
        ({"tag": "Sourcing Call", "problem": None, "suggestion": None}, None),
    ],
)
def test_each_tag_problem_has_a_one_sentence_fix(tag: dict[str, Any], fix: str | None) -> None:
    assert fix_for(tag) == fix


def test_on_loopback_with_no_sign_in_configured_the_console_serves_under_an_unprotected_banner(
    service: responses.RequestsMock,
) -> None:
    app = _run()

    assert "This console is unprotected" in _texts(app.warning)
    assert list(app.dataframe[0].value["call"]) == [1003, 1002]


@pytest.mark.parametrize("served_on", ["0.0.0.0", None, "10.1.2.3"], indirect=True)
def test_beyond_loopback_with_no_sign_in_configured_the_console_refuses_and_calls_nothing(
    service: responses.RequestsMock,
) -> None:
    app = _run()

    assert "The console refuses to serve" in _texts(app.error)
    assert "CALLBRIDGE_CONSOLE_PASSWORD" in _texts(app.error)
    assert not app.dataframe and not service.calls


@pytest.mark.parametrize("served_on", ["0.0.0.0"], indirect=True)
def test_with_a_password_nothing_shows_until_the_right_one_is_entered(
    service: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLBRIDGE_CONSOLE_PASSWORD", "correct horse")
    app = _run()
    assert not app.dataframe and not service.calls

    app.text_input(key="console_password").input("wrong horse")
    app.button[0].click().run()
    assert "not the console's" in _texts(app.error)
    assert not app.dataframe and not service.calls

    app.text_input(key="console_password").input("correct horse")
    app.button[0].click().run()
    assert not app.exception
    assert list(app.dataframe[0].value["call"]) == [1003, 1002]
    assert "unprotected" not in _texts(app.warning)


@pytest.mark.parametrize("served_on", ["0.0.0.0"], indirect=True)
def test_with_oidc_configured_the_console_asks_to_sign_in_and_shows_nothing_before(
    service: responses.RequestsMock,
) -> None:
    app = AppTest.from_file(APP, default_timeout=10)
    app.secrets["auth"] = {"redirect_uri": "http://console.test/oauth2callback", "cookie_secret": "s" * 32,
                           "client_id": "console", "client_secret": "secret",
                           "server_metadata_url": "https://idp.test/.well-known/openid-configuration"}
    app.run()

    assert not app.exception
    assert [button.label for button in app.button] == ["Sign in"]
    assert not app.dataframe and not service.calls


HOSTILE = "Bullhorn said [click here](https://evil.example) ![pixel](https://evil.example/p.png) :red[ALARM] # heading"


def test_markdown_in_aircall_and_bullhorn_text_is_shown_literally_not_rendered(service: responses.RequestsMock) -> None:
    hostile_call = {**DETAIL, "explanation": HOSTILE, "number_name": "**Sales** `line`",
                    "attempts": [{**ATTEMPT, "explanation": HOSTILE}]}
    service.replace(responses.GET, f"{BASE}/api/calls/1003", json=hostile_call)
    app = _run()

    app.selectbox(key="selected_call").select(1003).run()

    assert not app.exception
    shown = _texts(app.error) + _texts(app.markdown)
    assert r"\[click here\](https://evil.example)" in shown and r"\!\[pixel\]" in shown
    assert r":red\[ALARM\]" in shown and r"\# heading" in shown
    assert r"\*\*Sales\*\* \`line\`" in shown
    assert "[click here](" not in shown
