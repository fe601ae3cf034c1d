from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.calls import CallKind, TagScript
from tests.stack import running_stack
from tests.worker_kit import caller, notes_of, play, script

pytestmark = pytest.mark.anyio


async def test_an_untagged_call_gets_the_default_action_of_its_type_and_a_tag_still_wins(tmp_path: Path) -> None:
    number = caller("candidate").raw_digits
    calls = {
        8401: script(8401, number, CallKind.MISSED),
        8402: script(8402, number, CallKind.VOICEMAIL),
        8403: script(8403, number, CallKind.INBOUND_ANSWERED),
        8404: script(8404, number, CallKind.OUTBOUND_ANSWERED),
        8405: script(8405, number, CallKind.MISSED, tags=[TagScript("BD Call", 40)]),
    }
    async with running_stack(tmp_path, CALLBRIDGE_DEFAULT_ACTIONS="missed=Missed Call,voicemail=Voicemail,"
                                                                  "inbound=Inbound Call",
                             CALLBRIDGE_DEFAULT_ACTION="Pending Note") as stack:
        for call in calls.values():
            await play(stack, call)
        await (await stack.worker()).run_once()

        actions = {call_id: notes_of(stack, call_id)[0].get("action") for call_id in calls}

    assert actions == {8401: "Missed Call", 8402: "Voicemail", 8403: "Inbound Call", 8404: "Pending Note",
                       8405: "BD Call"}
