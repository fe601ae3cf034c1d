from __future__ import annotations

from datetime import UTC, datetime, timedelta

from insight.domain.backfill import snapshot_event
from insight.store import Store
from insight.store import backfill as rows

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_a_taken_in_snapshot_makes_a_known_ended_call_marked_as_backfilled(store: Store) -> None:
    event = snapshot_event({"id": 91, "direction": "inbound", "raw_digits": "+44 20 7946 0958",
                            "started_at": 1_795_000_000, "ended_at": 1_795_000_120})
    assert event is not None

    assert rows.known_calls(store.engine, [91, 92]) == {}
    assert rows.take_in(store.engine, [event]) == 1
    assert rows.take_in(store.engine, [event]) == 0
    assert rows.known_calls(store.engine, [91, 92]) == {91: True}
    assert rows.backfilled_count(store.engine) == 1


def test_a_job_keeps_its_figures_and_a_periodic_one_its_watermark(store: Store) -> None:
    job = rows.start_job(store.engine, kind=rows.PERIODIC, window_from=T0, window_to=T0 + timedelta(hours=1))
    rows.update_job(store.engine, job.job_id, seen=5, taken_in=2, known=3, status=rows.DONE, detail="ok",
                    watermark=1_795_000_000)

    found = rows.get_job(store.engine, job.job_id)
    assert found is not None
    assert found.as_json() == {"job": job.job_id, "kind": "periodic", "status": "done", "from": "2026-11-20T09:00:00Z",
                               "to": "2026-11-20T10:00:00Z", "seen": 5, "taken_in": 2, "known": 3, "detail": "ok"}
    assert rows.last_watermark(store.engine) == 1_795_000_000
    assert rows.get_job(store.engine, "f" * 32) is None


def test_a_run_left_running_by_a_dead_process_is_failed_with_a_reason(store: Store) -> None:
    stale = rows.start_job(store.engine, kind=rows.ON_DEMAND, window_from=T0, window_to=T0)
    failed = rows.fail_abandoned(store.engine, kind=rows.ON_DEMAND, older_than=datetime.now(UTC) + timedelta(seconds=1),
                                 detail="interrupted")
    fresh = rows.start_job(store.engine, kind=rows.ON_DEMAND, window_from=T0, window_to=T0)

    assert failed == 1
    assert rows.get_job(store.engine, stale.job_id).status == "failed"  # type: ignore[union-attr]
    assert rows.get_job(store.engine, fresh.job_id).status == "running"  # type: ignore[union-attr]
