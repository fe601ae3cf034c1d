from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from shared.timefmt import iso_from_epoch, iso_utc

PARIS = timezone(timedelta(hours=1))


def test_a_moment_in_any_zone_is_written_in_utc_with_a_z_to_the_second() -> None:
    moment = datetime(2026, 11, 25, 11, 0, 7, 987654, tzinfo=PARIS)

    assert iso_utc(moment) == "2026-11-25T10:00:07Z"
    assert iso_utc(moment.astimezone(UTC).replace(tzinfo=None)) == "2026-11-25T10:00:07Z"


def test_finer_precision_truncates_and_keeps_the_z() -> None:
    moment = datetime(2026, 11, 25, 10, 0, 7, 987654, tzinfo=UTC)

    assert iso_utc(moment, timespec="milliseconds") == "2026-11-25T10:00:07.987Z"
    assert iso_utc(moment, timespec="microseconds") == "2026-11-25T10:00:07.987654Z"
    assert datetime.fromisoformat(iso_utc(moment, timespec="microseconds")) == moment


def test_unix_seconds_are_written_the_same_way() -> None:
    assert iso_from_epoch(1_795_000_000) == "2026-11-18T11:06:40Z"
    assert iso_from_epoch(1_795_000_000.9) == "2026-11-18T11:06:40Z"
