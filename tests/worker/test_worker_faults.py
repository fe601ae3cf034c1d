from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from insight.store.tables import utcnow
from insight.upstream.retry import WaitBudget
from sandbox.calls import CallKind
from tests.stack import Stack, running_stack
from tests.worker_kit import caller, kinds, notes_of, play, row, script

pytestmark = pytest.mark.anyio


async def _fault(stack: Stack, **fault: Any) -> None:
    answer = await stack.bullhorn_admin.post("/_sandbox/faults", json=fault)
    assert answer.status_code == 200, answer.text


async def test_500_timeout_and_429_on_the_note_put_are_retried_then_synced_with_one_note(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7001, caller("candidate").raw_digits))
        await _fault(stack, endpoint="PUT entity/Note", status=500)
        await _fault(stack, endpoint="PUT entity/Note", status=504, hold_s=0.05)
        await _fault(stack, endpoint="PUT entity/Note", status=429)

        counts = await (await stack.worker()).run_once()

        assert counts["retrying"] == 2 and counts["synced"] == 1
        assert len(notes_of(stack, 7001)) == 1
        assert stack.slept and min(stack.slept) >= 1.0  # Bullhorn: "wait 1 second then retry"
        assert kinds(stack, 7001) == [
            ("create", "error"), ("reconcile", "not_found"), ("create", "error"), ("reconcile", "not_found"),
            ("create", "ok")]
        assert row(stack, 7001)["attempt_count"] == 0


async def test_a_lost_answer_to_the_note_put_is_reconciled_into_exactly_one_note(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7002, caller("contact").raw_digits))
        await _fault(stack, endpoint="PUT entity/Note", status=504, lost_answer=True)

        counts = await (await stack.worker()).run_once()

        [note] = notes_of(stack, 7002)
        assert counts == {**counts, "retrying": 1, "synced": 1}
        assert kinds(stack, 7002) == [("create", "error"), ("reconcile", "found")]
        synced = row(stack, 7002)
        assert (synced["note_id"], synced["write_intent_at"]) == (note["id"], None)


async def test_a_worker_killed_after_bullhorn_applied_the_put_leaves_one_note_after_restart(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7003, caller("candidate").raw_digits))
        # Bullhorn applies the PUT at once but holds its answer: the worker dies while waiting for it.
        await _fault(stack, endpoint="PUT entity/Note", status=504, lost_answer=True, hold_s=30)
        doomed = asyncio.create_task((await stack.worker()).run_once())
        for _ in range(200):
            if notes_of(stack, 7003):
                break
            await asyncio.sleep(0.01)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        assert row(stack, 7003)["status"] == "syncing" and row(stack, 7003)["write_intent_at"] is not None

        restarted = await stack.worker()
        assert (await restarted.run_once())["synced"] == 0  # the dead worker's lease still holds
        stack.clock.advance(301)
        counts = await restarted.run_once()

        assert counts["synced"] == 1 and len(notes_of(stack, 7003)) == 1
        assert kinds(stack, 7003)[-1] == ("reconcile", "found")


async def test_an_expired_session_is_renewed_once_and_the_sync_carries_on(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7004, caller("candidate").raw_digits))
        auth = stack.services.bullhorn.auth
        renewals = auth.logins + auth.refreshes
        assert (await stack.bullhorn_admin.post("/_sandbox/expire-sessions")).status_code == 200

        counts = await (await stack.worker()).run_once()

        assert counts["synced"] == 1 and auth.logins + auth.refreshes == renewals + 1
        assert len(notes_of(stack, 7004)) == 1


async def test_a_401_on_the_note_put_renews_the_session_and_checks_for_the_note_before_resending(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7008, caller("candidate").raw_digits))
        auth = stack.services.bullhorn.auth
        renewals = auth.logins + auth.refreshes
        await _fault(stack, endpoint="PUT entity/Note", status=401)

        counts = await (await stack.worker()).run_once()

        assert counts["retrying"] == 1 and counts["synced"] == 1
        assert auth.logins + auth.refreshes == renewals + 1
        assert len(notes_of(stack, 7008)) == 1
        assert kinds(stack, 7008) == [("create", "error"), ("reconcile", "not_found"), ("create", "ok")]


async def test_a_400_from_bullhorn_ends_failed_with_an_explanation(tmp_path: Path) -> None:
    # 999 is nobody's CorporateUser id, so Bullhorn rejects commentingPerson
    async with running_stack(tmp_path, BULLHORN_DEFAULT_USER_ID="999") as stack:
        await play(stack, script(7005, caller("candidate").raw_digits, CallKind.MISSED))

        counts = await (await stack.worker()).run_once()

        failed = row(stack, 7005)
        assert counts["failed"] == 1 and failed["status"] == "failed"
        assert failed["explanation"].startswith("Bullhorn refused the note creation: the field 'commentingPerson'")
        assert failed["write_intent_at"] is None and notes_of(stack, 7005) == []


async def test_a_call_is_dead_after_max_attempts(tmp_path: Path) -> None:
    async with running_stack(tmp_path, CALLBRIDGE_MAX_ATTEMPTS="3") as stack:
        await play(stack, script(7006, caller("candidate").raw_digits))
        await _fault(stack, endpoint="PUT entity/Note", status=503, count=10)

        counts = await (await stack.worker()).run_once()

        dead = row(stack, 7006)
        assert counts["retrying"] == 2 and counts["dead"] == 1
        assert (dead["status"], dead["attempt_count"]) == ("dead", 3)
        assert dead["explanation"].startswith("Gave up after 3 attempts; the last one: Bullhorn is unavailable")


class _RateLimitOnce(httpx.AsyncBaseTransport):
    """Bullhorn's gateway answering the first note PUT with 429 and a long Retry-After."""

    def __init__(self, inner: httpx.AsyncBaseTransport, retry_after_s: int) -> None:
        self.inner = inner
        self.retry_after_s = retry_after_s
        self.fired = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.fired and request.method == "PUT" and request.url.path.endswith("/entity/Note"):
            self.fired = True
            return httpx.Response(429, headers={"Retry-After": str(self.retry_after_s)},
                                  json={"errorMessage": "Rate limited", "errorCode": 429})
        return await self.inner.handle_async_request(request)


async def test_backoff_honours_retry_after(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7007, caller("candidate").raw_digits))
        assert stack.bullhorn_app is not None
        transport = _RateLimitOnce(httpx.ASGITransport(app=stack.bullhorn_app), retry_after_s=120)
        worker = await stack.worker(rate_limit=WaitBudget(max_waits=0), transport=transport)

        before = utcnow()
        assert (await worker.run_once())["retrying"] == 1
        waiting = row(stack, 7007)
        assert waiting["status"] == "retrying" and (waiting["next_attempt_at"] - before).total_seconds() >= 120
        assert "rate limited" in waiting["explanation"]
        stack.clock.advance(60)
        assert (await worker.run_once())["synced"] == 0
        stack.clock.advance(61)
        assert (await worker.run_once())["synced"] == 1 and len(notes_of(stack, 7007)) == 1




class _HeldNotePut(httpx.AsyncBaseTransport):
    """Holds the note PUT of `held_call` for `hold_s`, moving the worker's clock past its lease first;
    every other note PUT waits until that one has arrived, so it finishes while the held one is in flight."""

    def __init__(self, inner: httpx.AsyncBaseTransport, stack: Stack, *, held_call: int, hold_s: float) -> None:
        self._inner, self._stack, self._held, self._hold_s = inner, stack, f"aircall:{held_call}", hold_s
        self.arrived = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.url.path.endswith("/entity/Note"):
            if self._held.encode() in request.read():
                self._stack.clock.advance(301)
                self.arrived.set()
                await asyncio.sleep(self._hold_s)
            else:
                await asyncio.wait_for(self.arrived.wait(), 5)
        return await self._inner.handle_async_request(request)


async def test_a_worker_never_starts_a_second_sync_of_a_call_it_is_still_syncing_after_its_lease_ran_out(
    tmp_path: Path,
) -> None:
    # Found by `bench.faults` rate_limited: a note PUT waiting out 429s outlived the lease, the same
    # worker claimed the call again, reconciled (nothing there yet) and wrote a second note.
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7101, caller("candidate").raw_digits))
        await play(stack, script(7102, caller("contact").raw_digits))
        assert stack.bullhorn_app is not None
        held = _HeldNotePut(httpx.ASGITransport(app=stack.bullhorn_app), stack, held_call=7101, hold_s=0.5)

        counts = await (await stack.worker(transport=held)).run_once()

        assert counts["synced"] == 2
        assert len(notes_of(stack, 7101)) == 1 and len(notes_of(stack, 7102)) == 1
        assert row(stack, 7101)["status"] == "synced"


async def test_a_live_worker_renews_its_lease_so_no_other_worker_takes_over_a_slow_sync(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7103, caller("candidate").raw_digits))
        await _fault(stack, endpoint="PUT entity/Note", status=429, count=1, hold_s=1.2)
        slow = await stack.worker(lease_s=1.5, worker_id="slow")
        other = await stack.worker(lease_s=1.5, worker_id="other")
        syncing = asyncio.create_task(slow.run_once())
        await asyncio.sleep(0.2)
        stack.clock.advance(1.0)
        await asyncio.sleep(0.5)  # the slow worker renews its lease every 0.5 s of real time
        stack.clock.advance(1.0)  # past the first lease, not past the renewed one

        assert (await other.run_once())["synced"] == 0 and row(stack, 7103)["locked_by"] == "slow"
        assert (await syncing)["synced"] == 1
        assert len(notes_of(stack, 7103)) == 1
