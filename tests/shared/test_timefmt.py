from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.timefmt import iso_from_epoch, iso_utc, moment_from_iso

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


def test_a_written_moment_reads_back_as_the_same_aware_moment() -> None:
    moment = datetime(2026, 12, 3, 16, 45, 7, tzinfo=UTC)

    assert moment_from_iso(iso_utc(moment)) == moment
    assert moment_from_iso("2026-12-03T16:45:07") == moment  # naive: taken to be UTC
    assert moment_from_iso("2026-12-03T17:45:07+01:00") == moment


@pytest.mark.parametrize("value", [None, 17, "", "yesterday", "2026-13-40T99:00:00Z", ["2026-12-03"]])
def test_anything_else_reads_back_as_none_and_never_raises(value: object) -> None:
    assert moment_from_iso(value) is None
