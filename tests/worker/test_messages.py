from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from insight.store.tables import conversation_messages, utcnow
from insight.worker.retention import purge_expired
from sandbox import people
from tests.message_kit import MORNING, Text, conversation_rows, deliver_all, message_worker, sms_notes, texts
from tests.stack import running_stack as running
from tests.worker_kit import caller

pytestmark = pytest.mark.anyio


async def test_the_messages_of_one_day_are_one_note_updated_in_place_as_they_arrive(tmp_path: Path,
                                                                                    store_url: str) -> None:
    known = caller("candidate")
    first, second, third = texts(known.raw_digits, Text(0, True, "Is the role still open?"),
                                 Text(60, False, "Yes! Free at 9?"), Text(600, True, "9 works"))
    async with running(tmp_path, database_url=store_url) as stack:
        worker = message_worker(stack)
        await deliver_all(stack, [first, second])
        assert await worker.run_once() == {"synced": 1}
        [note] = sms_notes(stack)
        await deliver_all(stack, [third])
        assert await worker.run_once() == {"synced": 1}

        [updated] = sms_notes(stack)
        assert updated["id"] == note["id"]
        assert updated["personReference"] == {"id": known.expected[0][1]}
        assert updated["externalID"] == f"aircall-sms:{people.LINES[0].id}:{known.e164}:2025-11-25"
        assert updated["dateAdded"] == MORNING * 1000
        comments = updated["comments"]
        assert comments.index("Is the role still open?") < comments.index("Yes! Free at 9?") < comments.index("9 works")
        assert "10:00 UTC · Received" in comments and "10:01 UTC · Sent · Grace Hopper" in comments
        assert "3 messages" in comments
        assert stack.bullhorn.faults.requests["PUT entity/Note"] == 1
        assert stack.bullhorn.faults.requests["POST entity/Note/{id}"] == 1


async def test_a_conversation_over_midnight_utc_is_two_notes_one_per_day(tmp_path: Path) -> None:
    known = caller("contact")
    evening = MORNING + 13 * 3600 + 50 * 60  # 23:50 UTC
    envelopes = texts(known.raw_digits, Text(0, True, "Still up?"), Text(1200, False, "Yes, what's up?"),
                      started_at=evening)
    async with running(tmp_path) as stack:
        await deliver_all(stack, envelopes)
        await message_worker(stack).run_once()

        before, after = sms_notes(stack)
        assert before["externalID"].endswith(":2025-11-25") and after["externalID"].endswith(":2025-11-26")
        assert "Still up?" in before["comments"] and "Still up?" not in after["comments"]
        assert "Yes, what&#x27;s up?" in after["comments"]
        assert [row["day"] for row in conversation_rows(stack)] == ["2025-11-25", "2025-11-26"]


async def test_a_redelivered_message_changes_nothing(tmp_path: Path, store_url: str) -> None:
    envelopes = texts(caller("candidate").raw_digits, Text(0, True, "Hello"))
    async with running(tmp_path, database_url=store_url) as stack:
        worker = message_worker(stack)
        assert await deliver_all(stack, envelopes) == ["accepted"]
        await worker.run_once()
        assert await deliver_all(stack, envelopes) == ["duplicate"]

        assert await worker.run_once() == {}
        assert len(sms_notes(stack)) == 1
        assert stack.bullhorn.faults.requests["PUT entity/Note"] == 1
        assert "POST entity/Note/{id}" not in stack.bullhorn.faults.requests


async def test_markup_in_a_message_is_escaped_in_the_note(tmp_path: Path) -> None:
    envelopes = texts(caller("candidate").raw_digits,
                      Text(0, True, '<script>alert(1)</script> & <a href="x">me</a>',
                           media=("https://media.example.com/a.jpg?x=<b>",)))
    async with running(tmp_path) as stack:
        await deliver_all(stack, envelopes)
        await message_worker(stack).run_once()

        comments = sms_notes(stack)[0]["comments"]
        assert "<script>" not in comments and '<a href="x">' not in comments
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;a href=&quot;x&quot;&gt;me&lt;/a&gt;" in comments
        assert '<a href="https://media.example.com/a.jpg?x=&lt;b&gt;">' in comments


async def test_a_message_from_an_unknown_number_is_kept_unmatched_with_no_note(tmp_path: Path) -> None:
    stranger = caller("unknown")
    async with running(tmp_path) as stack:
        await deliver_all(stack, texts(stranger.raw_digits, Text(0, True, "Who is this?")))
        assert await message_worker(stack).run_once() == {"unmatched": 1}

        [row] = conversation_rows(stack)
        assert (row["status"], row["phone_e164"], row["note_id"]) == ("unmatched", stranger.e164, None)
        assert "No live Bullhorn Candidate or Contact" in row["explanation"]
        assert sms_notes(stack) == []


async def test_times_in_epoch_milliseconds_and_a_number_in_raw_digits_are_read_alike(tmp_path: Path) -> None:
    known = caller("candidate")
    [envelope] = texts(known.raw_digits, Text(0, False, "Hi"), times_in_ms=True)
    data = envelope["data"]
    data["raw_digits"] = data.pop("external_number")
    data["id"] = 123456789
    async with running(tmp_path) as stack:
        assert await deliver_all(stack, [envelope]) == ["accepted"]
        await message_worker(stack).run_once()

        [note] = sms_notes(stack)
        assert note["externalID"].endswith(f":{known.e164}:2025-11-25")
        assert note["dateAdded"] == MORNING * 1000


async def test_the_agent_of_the_first_outbound_message_authors_the_note_else_the_default_user(
    tmp_path: Path,
) -> None:
    agent = people.AGENTS[1]
    replied = texts(caller("candidate").raw_digits, Text(0, True, "Hi"), Text(30, False, "Hello!"), agent=agent)
    silent = texts(caller("contact").raw_digits, Text(0, True, "Anyone there?"), prefix="q")
    async with running(tmp_path, BULLHORN_DEFAULT_USER_ID=str(people.AGENTS[4].bullhorn_id)) as stack:
        await deliver_all(stack, replied + silent)
        await message_worker(stack).run_once()

        authors = {note["comments"].count("Sent"): note["commentingPerson"]["id"] for note in sms_notes(stack)}
        assert authors == {1: agent.bullhorn_id, 0: people.AGENTS[4].bullhorn_id}


async def test_a_message_without_its_line_is_refused_naming_the_field(tmp_path: Path) -> None:
    [envelope] = texts(caller("candidate").raw_digits, Text(0, True, "Hi"))
    del envelope["data"]["number"]
    async with running(tmp_path) as stack:
        response = await stack.web.post("/webhooks/aircall", json=envelope)

        assert response.status_code == 422
        assert "data.number.id" in response.json()["detail"]


async def test_messages_are_ignored_when_callbridge_messages_is_off(tmp_path: Path) -> None:
    async with running(tmp_path, CALLBRIDGE_MESSAGES="0") as stack:
        assert await deliver_all(stack, texts(caller("candidate").raw_digits, Text(0, True, "Hi"))) == ["ignored"]
        assert conversation_rows(stack) == []


async def test_after_the_retention_period_a_settled_conversation_and_its_messages_are_gone(tmp_path: Path) -> None:
    async with running(tmp_path) as stack:
        await deliver_all(stack, texts(caller("candidate").raw_digits, Text(0, True, "Hello")))
        await deliver_all(stack, texts(caller("unknown").raw_digits, Text(0, True, "Hi"), prefix="u"))
        await message_worker(stack).run_once()

        await purge_expired(stack.store, stack.settings, now=utcnow() + timedelta(days=89))
        assert len(conversation_rows(stack)) == 2
        await purge_expired(stack.store, stack.settings, now=utcnow() + timedelta(days=91))

        assert conversation_rows(stack) == []
        with stack.store.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(conversation_messages)).scalar_one() == 0
        assert len(sms_notes(stack)) == 1


async def test_a_message_with_nul_characters_and_overlong_fields_is_stored_and_logged(
    tmp_path: Path, store_url: str,
) -> None:
    [envelope] = texts(caller("candidate").raw_digits, Text(0, True, "he\x00llo"))
    envelope["data"]["number"]["id"] = "3973\x0001" + "9" * 60
    envelope["data"]["number"]["name"] = "Desk\x00" * 100
    async with running(tmp_path, database_url=store_url) as stack:
        assert await deliver_all(stack, [envelope]) == ["accepted"]
        assert await deliver_all(stack, [envelope]) == ["duplicate"]
        assert await message_worker(stack).run_once() == {"synced": 1}

        assert "hello" in sms_notes(stack)[0]["comments"]


async def test_an_sms_note_takes_the_sms_default_action_rather_than_the_fallback(tmp_path: Path) -> None:
    async with running(tmp_path, CALLBRIDGE_DEFAULT_ACTIONS="inbound=Inbound Call, sms = Text Message",
                       CALLBRIDGE_DEFAULT_ACTION="Phone Call") as stack:
        await deliver_all(stack, texts(caller("candidate").raw_digits, Text(0, True, "Hi")))
        await message_worker(stack).run_once()

        [note] = sms_notes(stack)
        assert note["action"] == "Text Message"


async def test_a_lost_answer_to_the_sms_note_put_is_reconciled_into_the_one_note_not_a_second(
    tmp_path: Path, store_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    known = caller("candidate")
    async with running(tmp_path, database_url=store_url) as stack:
        worker = message_worker(stack)
        await deliver_all(stack, texts(known.raw_digits, Text(0, True, "Is the role still open?")))
        # Bullhorn applies the PUT but its answer never arrives
        fault = {"endpoint": "PUT entity/Note", "status": 504, "lost_answer": True}
        assert (await stack.bullhorn_admin.post("/_sandbox/faults", json=fault)).status_code == 200
        assert await worker.run_once() == {"retrying": 1}
        [pending] = conversation_rows(stack)
        assert (pending["note_id"], pending["write_intent_at"] is not None) == (None, True)
        [applied] = sms_notes(stack)

        stack.clock.advance(3600)
        with caplog.at_level(logging.INFO, logger="callbridge.messages"):
            assert await worker.run_once() == {"synced": 1}

        [note] = sms_notes(stack)
        assert note["id"] == applied["id"] and "Is the role still open?" in note["comments"]
        assert stack.bullhorn.faults.requests["PUT entity/Note"] == 1
        [synced] = conversation_rows(stack)
        assert (synced["status"], synced["note_id"], synced["write_intent_at"]) == ("synced", note["id"], None)
        attempts = [record.getMessage() for record in caplog.records if record.name == "callbridge.messages"]
        assert f"SMS note reconcile of conversation {synced['id']}: found (HTTP 200)" in attempts
        assert not any(" create of " in line for line in attempts)
        assert known.e164 not in str([record.__dict__ for record in caplog.records])


async def test_a_live_message_worker_renews_its_lease_so_no_other_worker_takes_over_a_slow_sync(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as stack:
        await deliver_all(stack, texts(caller("candidate").raw_digits, Text(0, True, "Hello")))
        fault = {"endpoint": "PUT entity/Note", "status": 429, "count": 1, "hold_s": 1.2}
        assert (await stack.bullhorn_admin.post("/_sandbox/faults", json=fault)).status_code == 200
        slow = message_worker(stack, lease_s=1.5, worker_id="slow")
        other = message_worker(stack, lease_s=1.5, worker_id="other")
        syncing = asyncio.create_task(slow.run_once())
        await asyncio.sleep(0.2)
        stack.clock.advance(1.0)
        await asyncio.sleep(0.5)  # the slow worker renews its lease every 0.5 s of real time
        stack.clock.advance(1.0)  # past the first lease, not past the renewed one

        assert await other.run_once() == {}
        assert conversation_rows(stack)[0]["locked_by"] == "slow"
        assert await syncing == {"synced": 1}
        assert len(sms_notes(stack)) == 1


async def test_in_write_once_mode_the_days_sms_note_is_written_once_after_the_day_and_never_edited(
        tmp_path: Path) -> None:
    known = caller("candidate")
    today = int(utcnow().replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
    async with running(tmp_path, CALLBRIDGE_NOTE_MODE="once") as stack:
        worker = message_worker(stack)
        await deliver_all(stack, texts(known.raw_digits, Text(0, True, "Is the role still open?"), started_at=today))
        await worker.run_once()
        [waiting] = conversation_rows(stack)
        assert sms_notes(stack) == [] and waiting["status"] == "pending"
        assert "after the UTC day ends" in waiting["explanation"]

        stack.clock.advance(today + 86_400 + 120 + 1 - utcnow().timestamp())  # the day over, plus the settle time
        assert await worker.run_once() == {"synced": 1}
        [note] = sms_notes(stack)
        await deliver_all(stack, texts(known.raw_digits, Text(60, False, "It is!"), started_at=today, prefix="late"))
        assert await worker.run_once() == {"synced": 1}

        assert sms_notes(stack) == [note] and "It is!" not in note["comments"]
        assert stack.bullhorn.faults.requests["POST entity/Note/{id}"] == 0
        [written] = conversation_rows(stack)
        assert "messages arrived after the day's note was written" in written["explanation"]


async def test_an_sms_note_also_names_the_numbers_other_record_like_a_call_note_and_a_switchboard_none(
    tmp_path: Path,
) -> None:
    both, switchboard = caller("candidate_and_contact"), caller("switchboard")
    async with running(tmp_path) as stack:
        await deliver_all(stack, [*texts(both.raw_digits, Text(0, True, "Hello")),
                                  *texts(switchboard.raw_digits, Text(30, True, "Reception here"))])
        assert await message_worker(stack).run_once() == {"synced": 2}

        shared, personal = sorted(sms_notes(stack), key=lambda note: "Reception here" in note["comments"],
                                  reverse=True)
        linked = {note["id"]: sorted(link.target_id for link in stack.bullhorn.store.links_of_note(note["id"]))
                  for note in (shared, personal)}
        assert personal["personReference"] == {"id": both.expected[0][1]}
        assert linked[personal["id"]] == sorted(record_id for _, record_id in both.expected)
        assert linked[shared["id"]] == [switchboard.expected[0][1]]  # a switchboard's note: its first record only
