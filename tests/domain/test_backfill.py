from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from insight.domain.backfill import (
    MAX_LIVE_HOLD_S,
    OVERLAP_S,
    RangeError,
    Window,
    check_range,
    needs_taking_in,
    next_watermark,
    periodic_window,
    snapshot_event,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_a_range_within_six_months_becomes_a_window_in_unix_seconds() -> None:
    window = check_range(NOW - timedelta(days=2), NOW - timedelta(days=1), now=NOW)
    assert window == Window(int((NOW - timedelta(days=2)).timestamp()), int((NOW - timedelta(days=1)).timestamp()))


def test_a_range_reaching_into_the_future_stops_at_now() -> None:
    assert check_range(NOW - timedelta(hours=1), NOW + timedelta(days=1), now=NOW).end == int(NOW.timestamp())


@pytest.mark.parametrize(("start", "end", "field"), [
    (NOW - timedelta(days=1), NOW - timedelta(days=2), "to"),
    (NOW - timedelta(days=200), NOW, "from"),
    (NOW - timedelta(days=190), NOW - timedelta(days=185), "from"),
    (NOW + timedelta(hours=1), NOW + timedelta(hours=2), "from"),
])
def test_a_reversed_too_long_too_old_or_future_range_names_the_field_to_fix(
    start: datetime, end: datetime, field: str
) -> None:
    with pytest.raises(RangeError) as caught:
        check_range(start, end, now=NOW)
    assert caught.value.field == field


def test_a_naive_time_is_refused_rather_than_guessed() -> None:
    with pytest.raises(RangeError, match="time zone"):
        check_range(datetime(2026, 12, 1), NOW, now=NOW)


def test_a_fresh_store_looks_back_the_lookback_and_later_runs_overlap_the_watermark() -> None:
    now = 1_800_000_000
    assert periodic_window(None, now=now, lookback_s=3_600) == Window(now - 3_600, now)
    assert periodic_window(now - 300, now=now, lookback_s=3_600) == Window(now - 300 - OVERLAP_S, now)


def test_a_call_still_running_holds_the_watermark_back_but_not_for_ever() -> None:
    window = Window(1_800_000_000 - 900, 1_800_000_000)
    assert next_watermark(window, []) == window.end
    assert next_watermark(window, [window.end - 120]) == window.end - 120
    assert next_watermark(window, [window.end - MAX_LIVE_HOLD_S - 1]) == window.end


def test_a_window_splits_into_two_halves_that_cover_it_without_overlap() -> None:
    first, second = Window(100, 201).halves()
    assert (first, second) == (Window(100, 150), Window(151, 201))
    assert not Window(5, 5).splittable


def test_an_ended_snapshot_becomes_the_call_ended_event_with_a_key_no_webhook_uses() -> None:
    event = snapshot_event({"id": 77, "started_at": 1_000, "ended_at": 1_090, "direction": "inbound"})
    assert event is not None
    assert event.call_id == 77 and event.timestamp == 1_090
    assert event.dedupe_key == "backfill:77:1090"
    assert event.document == {"resource": "call", "event": "call.ended", "timestamp": 1_090,
                              "data": {"id": 77, "started_at": 1_000, "ended_at": 1_090, "direction": "inbound"}}


@pytest.mark.parametrize("call", [{"id": 77, "started_at": 1_000}, {"id": "77", "ended_at": 5},
                                  {"ended_at": 5}, {"id": True, "ended_at": 5}, {"id": 7, "ended_at": None}])
def test_a_running_or_malformed_snapshot_is_not_taken_in(call: dict[str, object]) -> None:
    assert snapshot_event(call) is None


def test_only_unknown_calls_and_calls_known_without_their_end_are_taken_in() -> None:
    assert needs_taking_in(known=False, has_ended=False)
    assert needs_taking_in(known=True, has_ended=False)
    assert not needs_taking_in(known=True, has_ended=True)
