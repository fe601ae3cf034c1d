"""DESIGN §9 end to end: callers from abroad whose records hold their numbers as their country writes them
nationally, on a US tenant, through the webhook, the card, the worker and Bullhorn's note; and a caller
number nobody can read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.calls import CallKind
from tests.index_kit import build, keeper_for
from tests.stack import demo_data, running_stack
from tests.worker_kit import caller, notes_of, play, row, script

pytestmark = pytest.mark.anyio

ABROAD = ("national_gb", "national_fr", "national_de", "national_au", "national_in")


def _record(entity: str, record_id: int) -> dict[str, object]:
    data = demo_data()
    return (data.candidates if entity == "Candidate" else data.contacts)[record_id]


@pytest.mark.parametrize("indexed", [False, True], ids=["live-search", "phone-index"])
async def test_a_caller_abroad_on_a_us_tenant_gets_a_named_card_and_a_note_on_the_record_holding_the_national_form(
    tmp_path: Path, indexed: bool
) -> None:
    async with running_stack(tmp_path, CALLBRIDGE_DEFAULT_REGION="US") as stack:
        if indexed:
            await build(keeper_for(stack))
        worker = await stack.worker()
        for call_id, kind in enumerate(ABROAD, start=7101):
            abroad = caller(kind)
            entity, record_id = abroad.expected[0]
            await play(stack, script(call_id, abroad.raw_digits))
            await worker.run_once()

            # the first card, and at most one refresh once Bullhorn's part of the context is in (DESIGN §13)
            card, *refreshed = stack.cards_for(call_id)
            assert len(refreshed) <= 1 and all(again["contents"][0] == card["contents"][0] for again in refreshed)
            title = card["contents"][0]
            assert title["text"] == _record(entity, record_id)["name"], kind
            assert f"id={record_id}" in title["link"]
            [note] = notes_of(stack, call_id)
            assert note["personReference"] == {"id": record_id}, kind
            synced = row(stack, call_id)
            assert (synced["status"], synced["phone_e164"]) == ("synced", abroad.e164)
        metrics = (await stack.web.get("/metrics")).text
        # the cards were answered from the phone index exactly when it was built
        assert ('callbridge_lookup_seconds_count{source="index"}' in metrics) is indexed


async def test_the_same_national_digits_of_a_us_number_reach_only_the_us_record(tmp_path: Path) -> None:
    us, gb = caller("same_digits_us"), caller("same_digits_gb")
    async with running_stack(tmp_path, CALLBRIDGE_DEFAULT_REGION="US") as stack:
        worker = await stack.worker()
        await play(stack, script(7201, us.raw_digits))
        await play(stack, script(7202, gb.raw_digits))
        await worker.run_once()

        [us_note], [gb_note] = notes_of(stack, 7201), notes_of(stack, 7202)
        assert us_note["personReference"] == {"id": us.expected[0][1]}
        assert gb_note["personReference"] == {"id": gb.expected[0][1]}
        assert us.expected != gb.expected


@pytest.mark.parametrize("raw_digits", ["12", "+999 123 4567", "0000", "callers-id"])
async def test_a_caller_number_nobody_can_read_gets_a_no_match_card_and_stays_unmatched_with_a_reason(
    tmp_path: Path, raw_digits: str
) -> None:
    async with running_stack(tmp_path) as stack:
        await play(stack, script(7301, raw_digits, CallKind.MISSED))
        counts = await (await stack.worker()).run_once()

        [card] = stack.cards_for(7301)
        assert card["contents"][0]["text"] == f"No Bullhorn match for {raw_digits}"
        assert counts["unmatched"] == 1 and notes_of(stack, 7301) == []
        stuck = row(stack, 7301)
        assert stuck["status"] == "unmatched" and stuck["phone_e164"] is None
        assert f"Aircall's number {raw_digits!r} is not a phone number callbridge can read" in stuck["explanation"]
        assert stack.searches() == 0
