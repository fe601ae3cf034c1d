from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from insight.store.tables import calls, utcnow
from tests.ops_rows import T0, add_attempt, add_call, add_event, update_call
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.anyio

ROUTES = [
    ("GET", "/api/calls"),
    ("GET", "/api/calls/1"),
    ("POST", "/api/calls/1/retry"),
    ("GET", "/api/tags"),
    ("GET", "/api/summary"),
]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running


@pytest.fixture
async def any_db_stack(tmp_path: Path, store_url: str) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path, database_url=store_url) as running:
        yield running


async def _get(stack: Stack, path: str, **params: Any) -> Any:
    response = await stack.web.get(path, params=params, headers=stack.api_headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _ids(stack: Stack, **params: Any) -> list[int]:
    return [call["call_id"] for call in (await _get(stack, "/api/calls", **params))["calls"]]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_ops_route_refuses_a_missing_or_wrong_key(stack: Stack, method: str, path: str) -> None:
    missing = await stack.web.request(method, path)
    wrong = await stack.web.request(method, path, headers={"Authorization": "Bearer not-the-key"})

    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"
    assert wrong.status_code == 401 and "does not match" in wrong.json()["detail"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_ops_route_refuses_all_when_no_key_is_configured(tmp_path: Path, method: str, path: str) -> None:
    async with running_stack(tmp_path, CALLBRIDGE_API_KEY="") as stack:
        response = await stack.web.request(method, path, headers={"Authorization": "Bearer anything"})

    assert response.status_code == 401
    assert "CALLBRIDGE_API_KEY" in response.json()["detail"]


async def test_pages_stay_stable_while_newer_calls_arrive_and_listed_calls_change(any_db_stack: Stack) -> None:
    stack = any_db_stack
    engine = stack.store.engine
    for call_id in range(1, 8):
        add_call(engine, call_id, created_at=T0 + timedelta(minutes=call_id))
    add_call(engine, 8, created_at=T0 + timedelta(minutes=4))  # same first-seen time as call 4

    first = await _get(stack, "/api/calls", limit=3)
    for call_id in range(100, 104):
        add_call(engine, call_id, created_at=T0 + timedelta(hours=1, minutes=call_id))
    update_call(engine, 5, status="synced", updated_at=T0 + timedelta(days=1), started_at=T0 + timedelta(days=1))
    second = await _get(stack, "/api/calls", limit=3, cursor=first["next_cursor"])
    add_call(engine, 200, created_at=T0 + timedelta(hours=5))
    third = await _get(stack, "/api/calls", limit=3, cursor=second["next_cursor"])

    pages = [[call["call_id"] for call in page["calls"]] for page in (first, second, third)]
    assert pages == [[7, 6, 5], [8, 4, 3], [2, 1]]
    assert third["next_cursor"] is None
    assert await _ids(stack, limit=5) == [200, 103, 102, 101, 100]


async def test_a_cursor_that_was_not_handed_out_is_refused(stack: Stack) -> None:
    for cursor in ("garbage!", "eyJjIjoxfQ", "e30"):
        response = await stack.web.get("/api/calls", params={"cursor": cursor}, headers=stack.api_headers)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_parameter" and "'cursor'" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "synced,finished"}, "status"),
        ({"direction": "sideways"}, "direction"),
        ({"type": "fax"}, "type"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
    ],
)
async def test_a_bad_filter_or_limit_is_a_400_naming_the_parameter(
    stack: Stack, params: dict[str, str], named: str
) -> None:
    response = await stack.web.get("/api/calls", params=params, headers=stack.api_headers)

    assert response.status_code == 400
    assert f"'{named}'" in response.json()["detail"]


async def test_calls_filter_by_status_direction_agent_type_and_time(any_db_stack: Stack) -> None:
    stack = any_db_stack
    engine = stack.store.engine
    add_call(engine, 1, status="synced", direction="inbound", call_type="inbound", agent_email="Ada@Northwind.test",
             started_at=T0)
    add_call(engine, 2, status="failed", direction="outbound", call_type="outbound", agent_email="grace@northwind.test",
             started_at=T0 + timedelta(hours=1))
    add_call(engine, 3, status="unmatched", direction="inbound", call_type="missed", started_at=T0 + timedelta(hours=2))
    add_call(engine, 4, status="pending", direction="inbound", created_at=T0 + timedelta(hours=3))  # still ringing

    assert await _ids(stack, status="failed") == [2]
    assert await _ids(stack, status="failed,unmatched") == [3, 2]
    assert await _ids(stack, direction="inbound") == [4, 3, 1]
    assert await _ids(stack, agent="ada@NORTHWIND.test") == [1]
    assert await _ids(stack, type="missed") == [3]
    assert await _ids(stack, since="2026-11-25T10:00:00Z") == [4, 3, 2]
    assert await _ids(stack, since="2026-11-25T10:00:00Z", until="2026-11-25T12:00:00+01:00") == [2]


async def test_a_listed_call_has_the_design_fields_with_iso_times_and_its_match(stack: Stack) -> None:
    add_call(
        stack.store.engine,
        7,
        status="synced",
        direction="inbound",
        call_type="inbound",
        agent_email="ada@northwind.test",
        number_name="London Desk",
        raw_digits="+44 20 7946 0958",
        started_at=T0,
        ended_at=T0 + timedelta(minutes=3),
        note_id=901,
        action="Sourcing Call",
        match_json={"matches": [
            {"entity": "ClientContact", "id": 5, "name": "Bob Other", "is_primary": False},
            {"entity": "Candidate", "id": 42, "name": "Ada Lovelace", "is_primary": True},
        ]},
    )

    (call,) = (await _get(stack, "/api/calls"))["calls"]

    assert {key: call[key] for key in ("call_id", "type", "started_at", "ended_at", "status", "note_id", "action")} == {
        "call_id": 7, "type": "inbound", "started_at": "2026-11-25T09:00:00Z", "ended_at": "2026-11-25T09:03:00Z",
        "status": "synced", "note_id": 901, "action": "Sourcing Call",
    }
    assert call["match"] == {"entity": "Candidate", "id": 42, "name": "Ada Lovelace"}
    assert "events" not in call and "attempts" not in call


async def test_an_unknown_call_is_a_404_for_reading_and_retrying(stack: Stack) -> None:
    read = await stack.web.get("/api/calls/999", headers=stack.api_headers)
    retry = await stack.web.post("/api/calls/999/retry", headers=stack.api_headers)

    assert read.status_code == 404 and read.json()["error"] == "not_found"
    assert retry.status_code == 404 and "999" in retry.json()["detail"]


async def test_a_call_shows_its_timeline_attempts_explanation_note_link_card_link_flags_and_tags(stack: Stack) -> None:
    engine = stack.store.engine
    add_call(
        engine, 31, status="failed", explanation="Bullhorn refused the note: the author is disabled", note_id=77,
        state_json={"call_type": "inbound", "agent": {"id": 1, "name": "Ada", "email": "ada@northwind.test"},
                    "started_at": "2026-11-25T09:00:00Z",
                    "tags": [{"name": "sourcing call", "tagged_at": "2026-11-25T09:02:00Z", "by_agent": True}]},
        flags_json={"shared_number": True, "match_count": 5, "skipped_tags": [], "warnings": []},
    )
    add_event(engine, 31, "call.ended", 1_795_000_100, received_at=T0 + timedelta(minutes=5))
    add_event(engine, 31, "call.created", 1_795_000_000, received_at=T0 + timedelta(minutes=6))
    add_attempt(engine, 31, kind="create", status_code=503, outcome="error", error="UpstreamUnavailable",
                explanation="Bullhorn is down (503); will try again", finished_at=T0 + timedelta(minutes=7))
    add_attempt(engine, 31, kind="create", status_code=400, outcome="error", error="UpstreamRejected",
                explanation="Bullhorn refused the note: the author is disabled")

    call = await _get(stack, "/api/calls/31")

    assert call["explanation"] == "Bullhorn refused the note: the author is disabled"
    assert [event["event"] for event in call["events"]] == ["call.created", "call.ended"]
    assert call["events"][1]["received_at"] == "2026-11-25T09:05:00Z"
    assert [(a["status_code"], a["error"], a["explanation"]) for a in call["attempts"]] == [
        (503, "UpstreamUnavailable", "Bullhorn is down (503); will try again"),
        (400, "UpstreamRejected", "Bullhorn refused the note: the author is disabled"),
    ]
    assert call["note_link"].endswith("/BullhornSTAFFING/OpenWindow.cfm?Entity=Note&id=77&view=Overview")
    assert call["card_url"].startswith("http://callbridge.test/cards/31?exp=")
    assert call["flags"]["shared_number"] is True
    assert call["tags"] == [{"name": "sourcing call", "tagged_at": "2026-11-25T09:02:00Z", "by_agent": True}]
    assert (call["type"], call["agent_email"], call["started_at"]) == ("inbound", "ada@northwind.test",
                                                                       "2026-11-25T09:00:00Z")


async def test_a_call_still_ringing_reads_from_its_columns_with_nulls_for_the_rest(stack: Stack) -> None:
    add_call(stack.store.engine, 5, direction="inbound", raw_digits="+14155550123")

    call = await _get(stack, "/api/calls/5")

    assert (call["direction"], call["raw_digits"], call["status"]) == ("inbound", "+14155550123", "pending")
    assert call["type"] is None and call["match"] is None and call["note_link"] is None
    assert call["events"] == [] and call["attempts"] == [] and call["tags"] == []


async def test_retrying_a_synced_call_with_no_newer_event_is_a_409(stack: Stack) -> None:
    add_call(stack.store.engine, 40, status="synced", last_event_id=12, synced_event_id=12)

    response = await stack.web.post("/api/calls/40/retry", headers=stack.api_headers)

    assert response.status_code == 409 and response.json()["error"] == "already_synced"
    assert _row(stack, 40).status == "synced"


async def test_retrying_a_synced_call_that_changed_since_requeues_it_for_a_rematch(stack: Stack) -> None:
    engine = stack.store.engine
    add_call(engine, 41, status="synced", last_event_id=13, synced_event_id=12, raw_digits="+1 415 555 0123")

    async def card() -> dict[str, object]:
        answer = await stack.web.get("/api/insight", params={"phone": "+14155550123"}, headers=stack.api_headers)
        return dict(answer.json())

    looked_up, cached = await card(), await card()
    response = await stack.web.post("/api/calls/41/retry", headers=stack.api_headers)
    after = await card()

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    row = _row(stack, 41)
    assert (row.status, row.rematch) == ("pending", True) and row.next_attempt_at <= utcnow()
    # the web's lookup cache forgot the number: the next card searches Bullhorn again
    assert (looked_up["cached"], cached["cached"], after["cached"]) == (False, True, False)
    assert stack.searches() == 4


async def test_retrying_a_failed_call_requeues_it_with_a_fresh_attempt_budget(stack: Stack) -> None:
    add_call(stack.store.engine, 42, status="failed", attempt_count=5, phone_e164="+442079460958",
             explanation="Bullhorn refused the note")

    response = await stack.web.post("/api/calls/42/retry", headers=stack.api_headers)

    assert response.status_code == 202
    row = _row(stack, 42)
    assert (row.status, row.attempt_count, row.rematch) == ("pending", 0, True)


async def test_retrying_a_call_a_worker_holds_right_now_is_a_409(stack: Stack) -> None:
    lease = utcnow() + timedelta(minutes=1)
    add_call(stack.store.engine, 43, status="syncing", locked_by="worker-1", locked_until=lease)

    response = await stack.web.post("/api/calls/43/retry", headers=stack.api_headers)

    assert response.status_code == 409 and response.json()["error"] == "not_requeued"
    assert _row(stack, 43).status == "syncing"


def _recent(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


async def test_tags_leave_out_aircall_system_tags_and_calls_older_than_the_window(stack: Stack) -> None:
    engine = stack.store.engine
    system = {"name": "Callback Request", "tagged_at": "2026-11-25T09:00:00Z", "by_agent": False}
    add_call(engine, 1, created_at=_recent(5), state_json={"tags": [system, *_tagged("BD Call")["tags"]]})
    add_call(engine, 2, created_at=datetime.now(UTC) - timedelta(days=40), state_json=_tagged("Cold Call"))

    default = await _get(stack, "/api/tags")
    wider = await _get(stack, "/api/tags", days=60)

    assert [tag["tag"] for tag in default["tags"]] == ["BD Call"]
    assert sorted(tag["tag"] for tag in wider["tags"]) == ["BD Call", "Cold Call"]
    bad = await stack.web.get("/api/tags?days=0", headers=stack.api_headers)
    assert bad.status_code == 400 and "days" in bad.json()["detail"]


def _tagged(*names: str) -> dict[str, Any]:
    return {"tags": [{"name": name, "tagged_at": "2026-11-25T09:00:00Z", "by_agent": True} for name in names]}


async def test_tags_name_the_action_each_becomes_and_why_it_does_not_fit(stack: Stack) -> None:
    engine = stack.store.engine
    too_long = "Follow up with hiring manager re Q3 contract roles"
    add_call(engine, 1, created_at=_recent(1), state_json=_tagged("Sourcing Call", "sourcing call"))
    add_call(engine, 2, created_at=_recent(2), state_json=_tagged("sourcing call", "sourcing call"))
    add_call(engine, 3, created_at=_recent(3), state_json=_tagged(too_long, "Cold Call"))
    add_call(engine, 4, created_at=_recent(4))  # still ringing: no state yet

    answer = await _get(stack, "/api/tags")

    assert "Sourcing Call" in answer["actions"]
    by_tag = {tag["tag"]: tag for tag in answer["tags"]}
    assert by_tag["sourcing call"] == {
        "tag": "sourcing call", "calls": 2, "action": "sourcing call", "problem": "case_mismatch",
        "suggestion": "Sourcing Call",
    }
    assert by_tag["Sourcing Call"]["problem"] is None and by_tag["Sourcing Call"]["action"] == "Sourcing Call"
    assert by_tag[too_long] | {"calls": 1} == {
        "tag": too_long, "calls": 1, "action": None, "problem": "too_long", "suggestion": None,
    }
    assert by_tag["Cold Call"]["problem"] == "not_an_action"
    assert answer["tags"][0]["tag"] == "sourcing call"  # most used first


async def test_the_summary_counts_states_queue_cards_and_sync_latency(any_db_stack: Stack) -> None:
    stack = any_db_stack
    engine = stack.store.engine
    now = utcnow()
    ended = now - timedelta(minutes=30)
    for call_id, seconds in ((1, 40), (2, 60), (3, 100)):
        add_call(engine, call_id, status="synced", created_at=now - timedelta(minutes=40), ended_at=ended,
                 card_status="pushed")
        add_attempt(engine, call_id, kind="reconcile", outcome="not_found", finished_at=ended + timedelta(seconds=1))
        add_attempt(engine, call_id, kind="create", outcome="ok", status_code=200,
                    finished_at=ended + timedelta(seconds=seconds))
        add_attempt(engine, call_id, kind="update", outcome="ok", status_code=200,
                    finished_at=ended + timedelta(seconds=seconds + 500))
    add_call(engine, 4, status="retrying", next_attempt_at=now - timedelta(seconds=90), card_status="failed")
    add_call(engine, 5, status="pending", next_attempt_at=now + timedelta(minutes=5))
    add_call(engine, 6, status="failed")
    add_call(engine, 7, status="dead", created_at=now - timedelta(days=3))

    summary = await _get(stack, "/api/summary")

    assert summary["counts"] == {"pending": 1, "syncing": 0, "synced": 3, "retrying": 1, "failed": 1,
                                 "unmatched": 0, "dead": 1}
    assert summary["queue"]["depth"] == 2 and summary["queue"]["due"] == 1
    assert 85 <= summary["queue"]["oldest_pending_age_s"] <= 120
    assert summary["latency"] | {"window_hours": 24} == {"window_hours": 24, "samples": 3, "p50_s": 60.0,
                                                        "p95_s": 100.0}
    assert summary["cards"] == {"pushed": 3, "failed": 1}
    assert summary["index"]["ready"] is False and summary["index"]["records_indexed"] == 0
    assert len(summary["timeline"]) == 24 and summary["timeline"][-1]["hour"].endswith(":00:00Z")
    assert sum(bucket["synced"] for bucket in summary["timeline"]) == 3


async def test_the_summary_window_is_a_parameter_checked_like_the_others(stack: Stack) -> None:
    assert len((await _get(stack, "/api/summary", hours=3))["timeline"]) == 3
    response = await stack.web.get("/api/summary", params={"hours": "1000"}, headers=stack.api_headers)
    assert response.status_code == 400 and "'hours'" in response.json()["detail"]


def _row(stack: Stack, call_id: int) -> Any:
    with stack.store.engine.connect() as connection:
        row = connection.execute(select(calls).where(calls.c.call_id == call_id)).one()
    return row


async def test_tags_answer_503_with_the_reason_when_bullhorn_is_down_and_no_list_was_read(stack: Stack) -> None:
    await stack.services.bullhorn.auth.session()
    fault = {"endpoint": "GET settings/commentActionList", "status": 503, "count": 5}
    assert (await stack.bullhorn_admin.post("/_sandbox/faults", json=fault)).status_code < 300

    response = await stack.web.get("/api/tags", headers=stack.api_headers)

    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "bullhorn_unavailable"
    assert body["detail"].startswith("Bullhorn's commentActionList could not be read: ")


async def test_tags_list_the_default_action_of_each_call_type_checked_against_bullhorns_actions(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path, CALLBRIDGE_DEFAULT_ACTIONS="missed=missed call, voicemail=Voicemail",
                             CALLBRIDGE_DEFAULT_ACTION="Pending Note") as stack:
        answer = await _get(stack, "/api/tags")

    assert answer["default_actions"] == [
        {"type": "missed", "action": "missed call", "variable": "CALLBRIDGE_DEFAULT_ACTIONS",
         "problem": "case_mismatch", "suggestion": "Missed Call"},
        {"type": "voicemail", "action": "Voicemail", "variable": "CALLBRIDGE_DEFAULT_ACTIONS",
         "problem": None, "suggestion": None},
        {"type": "other types", "action": "Pending Note", "variable": "CALLBRIDGE_DEFAULT_ACTION",
         "problem": None, "suggestion": None},
    ]
