"""The ops API over calls the real intake and worker produced (not rows written by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stack import running_stack
from tests.worker_kit import TagScript, caller, play, script

pytestmark = pytest.mark.anyio


async def test_a_refused_note_is_explained_then_retried_into_a_synced_call(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        headers = stack.api_headers
        call = script(7101, caller("candidate").raw_digits, tags=[TagScript("sourcing call", at_s=30)])
        await play(stack, call)
        fault = {"endpoint": "PUT entity/Note", "status": 400}
        assert (await stack.bullhorn_admin.post("/_sandbox/faults", json=fault)).status_code == 200
        await (await stack.worker()).run_once()

        listed = (await stack.web.get("/api/calls", params={"status": "failed"}, headers=headers)).json()
        failed = (await stack.web.get("/api/calls/7101", headers=headers)).json()
        tags = (await stack.web.get("/api/tags", headers=headers)).json()

        assert [item["call_id"] for item in listed["calls"]] == [7101]
        assert failed["status"] == "failed" and failed["explanation"]
        assert failed["attempts"][-1]["status_code"] == 400 and failed["attempts"][-1]["explanation"]
        assert {"call.created", "call.ended"} <= {event["event"] for event in failed["events"]}
        assert failed["type"] == "inbound" and failed["match"]["entity"] == "Candidate"
        assert [tag["name"] for tag in failed["tags"]] == ["sourcing call"]
        sourcing = next(tag for tag in tags["tags"] if tag["tag"] == "sourcing call")
        assert (sourcing["problem"], sourcing["suggestion"], sourcing["calls"]) == ("case_mismatch", "Sourcing Call", 1)

        retried = await stack.web.post("/api/calls/7101/retry", headers=headers)
        assert retried.status_code == 202 and retried.json()["status"] == "pending"
        await (await stack.worker()).run_once()

        synced = (await stack.web.get("/api/calls/7101", headers=headers)).json()
        again = await stack.web.post("/api/calls/7101/retry", headers=headers)
        summary = (await stack.web.get("/api/summary", headers=headers)).json()

        assert synced["status"] == "synced" and synced["note_id"] and synced["action"] == "sourcing call"
        assert "OpenWindow.cfm?Entity=Note&id=" in synced["note_link"]
        assert again.status_code == 409
        assert summary["counts"]["synced"] == 1 and summary["latency"]["samples"] == 1
