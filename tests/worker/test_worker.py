from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from insight.store import StoreVault
from insight.store.phone_index import PhoneIndex
from insight.store.queue import requeue
from insight.store.tables import calls
from insight.upstream.bullhorn.client import open_bullhorn
from insight.worker.index_keeper import IndexKeeper
from insight.worker.runner import Worker
from sandbox import people
from sandbox.calls import CallKind, CommentScript, TagScript
from shared.states import SyncState
from tests.index_kit import build
from tests.stack import demo_data, running_stack
from tests.worker_kit import agent, attempt_rows, caller, ended_s, events_of, kinds, notes_of, play, row, script

pytestmark = pytest.mark.anyio


async def test_an_answered_call_is_one_note_on_the_caller_written_as_the_agent_with_the_first_tag(
    tmp_path: Path,
) -> None:
    known = caller("candidate")
    call = script(6001, known.raw_digits, tags=[TagScript("Reference Check", 60), TagScript("BD Call", 40)],
                  comments=[CommentScript("Call back <Monday>", 200)])
    async with running_stack(tmp_path) as stack:
        await play(stack, call)
        counts = await (await stack.worker()).run_once()

        [note] = notes_of(stack, 6001)
        assert counts["synced"] == 1
        assert note["personReference"] == {"id": known.expected[0][1]}
        assert note["commentingPerson"] == {"id": people.AGENTS[0].bullhorn_id}
        assert note["action"] == "BD Call"
        assert note["minutesSpent"] == 2 and note["dateAdded"] == call.started_at * 1000
        assert "Call back &lt;Monday&gt;" in note["comments"]
        synced = row(stack, 6001)
        assert (synced["status"], synced["note_id"], synced["action"]) == ("synced", note["id"], "BD Call")
        assert synced["synced_event_id"] == synced["last_event_id"]
        assert synced["state_json"]["first_agent_tag"] == "BD Call"
        assert kinds(stack, 6001) == [("create", "ok")]
        assert "PUT entity/NoteEntity" not in stack.bullhorn.faults.requests


async def test_redelivered_and_reordered_events_still_make_exactly_one_note(tmp_path: Path) -> None:
    call = script(6002, caller("candidate").raw_digits, tags=[TagScript("BD Call", 40)])
    async with running_stack(tmp_path) as stack:
        worker = await stack.worker()
        for event in reversed(events_of(call)):
            for _ in range(2):
                await stack.deliver(event.envelope)
            await worker.run_once()
        await stack.settle()
        await worker.run_once()

        assert len(notes_of(stack, 6002)) == 1
        assert row(stack, 6002)["status"] == "synced"


async def test_a_call_that_is_not_over_is_not_written_yet(tmp_path: Path) -> None:
    call = script(6003, caller("candidate").raw_digits)
    async with running_stack(tmp_path) as stack:
        await play(stack, call, until_s=ended_s(call) - 1)

        counts = await (await stack.worker()).run_once()

        assert sum(counts.values()) == 0
        assert notes_of(stack, 6003) == [] and row(stack, 6003)["status"] == "pending"


async def test_a_comment_arriving_90_s_after_call_ended_updates_the_same_note(tmp_path: Path) -> None:
    call = script(6004, caller("contact").raw_digits, comments=[CommentScript("Wants two more CVs", 95 + 8 + 30 + 90)])
    async with running_stack(tmp_path) as stack:
        worker = await stack.worker()
        await play(stack, call, until_s=ended_s(call))
        await worker.run_once()
        [first] = notes_of(stack, 6004)
        assert "Wants two more CVs" not in first["comments"]

        await play(stack, call, after_s=ended_s(call))
        assert row(stack, 6004)["status"] == "pending"
        counts = await worker.run_once()

        [note] = notes_of(stack, 6004)
        assert counts["synced"] == 1 and note["id"] == first["id"]
        assert "Wants two more CVs" in note["comments"]
        assert kinds(stack, 6004) == [("create", "ok"), ("update", "ok")]
        assert attempt_rows(stack, 6004)[1]["request_summary"].startswith(f"POST entity/Note/{note['id']} fields=")


async def test_a_late_event_that_changes_nothing_in_the_note_sends_nothing(tmp_path: Path) -> None:
    call = script(6005, caller("candidate").raw_digits)
    async with running_stack(tmp_path) as stack:
        worker = await stack.worker()
        await play(stack, call)
        await worker.run_once()
        archived = {**events_of(call)[-1].envelope, "event": "call.archived", "timestamp": call.started_at + 900}
        await stack.deliver(archived)

        counts = await worker.run_once()

        assert counts["synced"] == 1 and kinds(stack, 6005) == [("create", "ok")]


async def test_a_missed_call_and_a_voicemail_are_logged_with_their_type_and_the_default_author(tmp_path: Path) -> None:
    missed = script(6006, caller("candidate").raw_digits, CallKind.MISSED)
    voicemail = script(6007, caller("contact").raw_digits, CallKind.VOICEMAIL)
    async with running_stack(tmp_path, BULLHORN_DEFAULT_USER_ID="103") as stack:
        await play(stack, missed)
        await play(stack, voicemail)
        await (await stack.worker()).run_once()

        [missed_note], [voicemail_note] = notes_of(stack, 6006), notes_of(stack, 6007)
        assert missed_note["comments"].startswith("<p><b>Missed call</b>")
        assert voicemail_note["comments"].startswith("<p><b>Voicemail</b>")
        assert "assets.aircall.io/calls/6007/voicemail" in voicemail_note["comments"]
        assert missed_note["commentingPerson"] == voicemail_note["commentingPerson"] == {"id": 103}
        assert row(stack, 6006)["call_type"] == "missed" and row(stack, 6007)["call_type"] == "voicemail"
        assert row(stack, 6006)["flags_json"]["author_fallback"] is True


async def test_without_a_default_user_the_api_user_authors_unanswered_calls(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(6008, caller("candidate").raw_digits, CallKind.MISSED))
        await (await stack.worker()).run_once()

        assert notes_of(stack, 6008)[0]["commentingPerson"] == {"id": people.API_USER_ID}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Alan Turing", "bullhorn_id"), ("Frances Allen", "bullhorn_id"), ("Niklaus Wirth", "default")],
    ids=["email_case_differs", "disabled_twin_ignored", "no_bullhorn_user"],
)
async def test_the_agent_maps_to_the_enabled_corporate_user_by_email_ignoring_case(
    tmp_path: Path, name: str, expected: str
) -> None:
    who = agent(name)
    async with running_stack(tmp_path, BULLHORN_DEFAULT_USER_ID="103") as stack:
        await play(stack, script(6009, caller("candidate").raw_digits, CallKind.OUTBOUND_ANSWERED, by=who))
        await (await stack.worker()).run_once()

        author = notes_of(stack, 6009)[0]["commentingPerson"]["id"]
        assert author == (who.bullhorn_id if expected == "bullhorn_id" else 103)
        assert row(stack, 6009)["flags_json"]["author_fallback"] is (expected == "default")


async def test_a_number_shared_by_5_contacts_logs_on_the_primary_only_and_is_flagged(tmp_path: Path) -> None:
    switchboard = caller("switchboard")
    assert len(switchboard.expected) == 5
    async with running_stack(tmp_path) as stack:
        await play(stack, script(6010, switchboard.raw_digits))
        await (await stack.worker()).run_once()

        [note] = notes_of(stack, 6010)
        assert note["personReference"] == {"id": switchboard.expected[0][1]}
        assert [link.target_id for link in stack.bullhorn.store.links_of_note(note["id"])] == [
            switchboard.expected[0][1]
        ]
        flags = row(stack, 6010)["flags_json"]
        assert flags["shared_number"] is True and flags["match_count"] == 5


async def test_an_unmatched_caller_stays_unmatched_and_syncs_after_retry_once_the_record_exists(
    tmp_path: Path,
) -> None:
    unknown = caller("unknown")
    async with running_stack(tmp_path) as stack:
        worker = await stack.worker()
        await play(stack, script(6011, unknown.raw_digits))
        await worker.run_once()
        stuck = row(stack, 6011)
        assert stuck["status"] == "unmatched" and notes_of(stack, 6011) == []
        assert "No live Bullhorn Candidate or Contact has +" in stuck["explanation"]
        assert unknown.e164 not in stuck["explanation"]  # masked
        assert await worker.run_once() == dict.fromkeys(worker_outcomes(), 0)

        created = await stack.bullhorn_admin.put("/_sandbox/records/Candidate/99001", json={
            "firstName": "Late", "lastName": "Comer", "name": "Late Comer", "status": "Active",
            "mobile": unknown.raw_digits})
        assert created.status_code == 200
        assert requeue(stack.store.engine, 6011, rematch=True)
        await worker.run_once()

        [note] = notes_of(stack, 6011)
        assert note["personReference"] == {"id": 99001}
        synced = row(stack, 6011)
        assert (synced["status"], synced["rematch"], synced["explanation"]) == ("synced", False, None)


async def test_an_anonymous_caller_is_kept_unmatched_with_its_own_explanation(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(6012, "anonymous", CallKind.MISSED))
        counts = await (await stack.worker()).run_once()

        assert counts["unmatched"] == 1
        assert "withheld their number" in row(stack, 6012)["explanation"]
        assert kinds(stack, 6012) == []


async def test_note_settle_delay_holds_the_first_write_until_it_has_passed(tmp_path: Path) -> None:
    async with running_stack(tmp_path, CALLBRIDGE_NOTE_SETTLE_S="60") as stack:
        worker = await stack.worker()
        await play(stack, script(6013, caller("candidate").raw_digits))

        assert (await worker.run_once())["skipped"] == 1 and notes_of(stack, 6013) == []
        assert await worker.run_once() == dict.fromkeys(worker_outcomes(), 0)
        stack.clock.advance(61)
        assert (await worker.run_once())["synced"] == 1
        assert len(notes_of(stack, 6013)) == 1


async def test_missing_edit_rights_end_failed_with_the_edit_rights_explanation(tmp_path: Path) -> None:
    call = script(6014, caller("candidate").raw_digits, comments=[CommentScript("late", 300)])
    async with running_stack(tmp_path) as stack:
        worker = await stack.worker()
        await play(stack, call, until_s=ended_s(call))
        await worker.run_once()
        stack.bullhorn.config.note_edit_allowed = False
        await play(stack, call, after_s=ended_s(call))

        counts = await worker.run_once()

        failed = row(stack, 6014)
        assert counts["failed"] == 1 and failed["status"] == SyncState.failed
        assert "the API user lacks edit rights on notes" in failed["explanation"]
        assert kinds(stack, 6014)[-1] == ("update", "error") and len(notes_of(stack, 6014)) == 1


async def test_a_stored_match_of_another_shape_fails_the_call_naming_the_field(tmp_path: Path) -> None:
    call = script(6015, caller("candidate").raw_digits)
    async with running_stack(tmp_path) as stack:
        await play(stack, call)
        stored = row(stack, 6015)["match_json"]
        renamed = [{"fields": [match.pop("phone_field")], **match} for match in stored["matches"]]
        with stack.store.engine.begin() as connection:
            connection.execute(update(calls).where(calls.c.call_id == 6015)
                               .values(match_json={**stored, "matches": renamed}))

        counts = await (await stack.worker()).run_once()

        failed = row(stack, 6015)
        assert counts["failed"] == 1 and failed["status"] == SyncState.failed
        assert "has no field 'phone_field'" in failed["explanation"]
        assert notes_of(stack, 6015) == []


class InFlight(httpx.AsyncBaseTransport):
    """The sandbox behind a transport that counts the requests in flight at once, and which sent them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.now: list[str] = []
        self.peak = 0
        #: every combination of request kinds that was in flight at one moment
        self.overlaps: set[frozenset[str]] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # the keeper's scan pages are searches by id range; everything else here is the worker's
        kind = "keeper" if "event/" in request.url.path or b"id:[" in request.content else "worker"
        self.now.append(kind)
        self.peak = max(self.peak, len(self.now))
        self.overlaps.add(frozenset(self.now))
        try:
            await asyncio.sleep(0.02)  # as over a network: requests overlap
            return await self._inner.handle_async_request(request)
        finally:
            self.now.remove(kind)


async def test_the_worker_and_the_index_keeper_together_never_exceed_the_bullhorn_concurrency(
    tmp_path: Path,
) -> None:
    people_called = [known for known in demo_data().callers if known.kind == "candidate"][:8]
    calls = [script(6100 + n, known.raw_digits) for n, known in enumerate(people_called)]
    async with running_stack(tmp_path, CALLBRIDGE_BULLHORN_CONCURRENCY="2") as stack:
        for call in calls:
            await play(stack, call)
        assert stack.bullhorn_app is not None
        counted = InFlight(httpx.ASGITransport(app=stack.bullhorn_app))
        # wired as the worker process wires them: one client for both
        vault = StoreVault.for_settings(stack.store, stack.settings)
        async with open_bullhorn(stack.settings, vault, transport=counted) as bullhorn:
            worker = Worker(store=stack.store, bullhorn=bullhorn, settings=stack.settings, clock=stack.clock)
            keeper = IndexKeeper(bullhorn, PhoneIndex(stack.store.engine), default_region="US", page_size=50)
            counts, _rounds = await asyncio.gather(worker.run_once(), build(keeper))

        assert counts["synced"] == len(calls)
        assert counted.peak == 2
        assert any({"keeper", "worker"} <= overlap for overlap in counted.overlaps)


def worker_outcomes() -> tuple[str, ...]:
    from insight.worker.runner import OUTCOMES

    return OUTCOMES
