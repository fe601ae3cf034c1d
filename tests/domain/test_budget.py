from __future__ import annotations

from datetime import UTC, datetime

import pytest

from insight.domain.budget import MIN_INDEX_POLL_S, Purpose, budget_report, index_poll_interval_s, month_of, project


def test_the_month_is_the_utc_month_of_the_moment() -> None:
    assert month_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "2026-12"


def test_half_way_through_a_month_the_projection_doubles_the_use_so_far() -> None:
    # 2026-11 has 30 days: noon on the 16th is exactly half of it
    assert project(1_000, datetime(2026, 11, 16, 0, 0, tzinfo=UTC)) == 2_000


def test_the_first_minutes_of_a_month_project_from_an_hours_pace_not_a_seconds() -> None:
    moment = datetime(2026, 12, 1, 0, 0, 10, tzinfo=UTC)
    assert project(10, moment) == 10 * 31 * 24


def test_the_report_lists_every_purpose_with_zeros_and_totals_them() -> None:
    report = budget_report({"lookup": 30, "note": 12, "session": 2}, now=datetime(2026, 12, 16, 12, tzinfo=UTC),
                           budget=100_000, index_share=0.1)
    assert report.by_purpose == {"lookup": 30, "note": 12, "index": 0, "setup": 0, "backfill": 0, "session": 2,
                                 "context": 0, "other": 0}
    assert report.total == 44
    assert report.index_allowance == 10_000
    assert report.over_budget is False and report.warning is None


def test_a_projection_over_the_budget_warns_in_plain_words() -> None:
    report = budget_report({"index": 60_000}, now=datetime(2026, 12, 16, 12, tzinfo=UTC), budget=100_000,
                           index_share=0.1)
    assert report.projected == 120_000
    assert report.over_budget is True
    assert report.warning is not None and "over the budget of 100,000" in report.warning


def test_the_default_share_paces_index_polls_to_about_four_and_a_half_minutes() -> None:
    interval = index_poll_interval_s(budget=100_000, share=0.1)
    assert interval == pytest.approx(267.84)
    # the pace never spends more than the share, even in a 31-day month
    assert round(31 * 86_400 / interval) == 10_000


def test_polling_every_minute_alone_would_spend_almost_half_the_default_budget() -> None:
    assert 31 * 86_400 / 60 == 44_640


def test_a_large_budget_never_polls_more_often_than_the_floor() -> None:
    assert index_poll_interval_s(budget=100_000_000, share=1.0) == MIN_INDEX_POLL_S


def test_reads_per_poll_stretch_the_interval() -> None:
    assert index_poll_interval_s(budget=100_000, share=0.1, requests_per_poll=3) == pytest.approx(3 * 267.84)


def test_every_purpose_of_the_design_exists() -> None:
    assert [str(purpose) for purpose in Purpose] == ["lookup", "note", "index", "setup", "backfill", "session",
                                                     "context", "other"]
