from __future__ import annotations

from pathlib import Path

import pytest

from tests.message_kit import MORNING, Text, deliver_all, message_worker, texts
from tests.stack import running_stack
from tests.worker_kit import caller

pytestmark = pytest.mark.anyio


async def test_conversations_are_listed_newest_first_page_by_page_with_their_messages(tmp_path: Path) -> None:
    numbers = [caller("candidate").raw_digits, caller("contact").raw_digits, caller("unknown").raw_digits]
    async with running_stack(tmp_path) as stack:
        for index, number in enumerate(numbers):
            await deliver_all(stack, texts(number, Text(0, True, f"hello {index}"), prefix=f"p{index}",
                                           started_at=MORNING + index))
        await message_worker(stack).run_once()

        seen, cursor = [], None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = (await stack.web.get("/api/conversations", params=params, headers=stack.api_headers)).json()
            seen += page["conversations"]
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert [item["messages"][0]["text"] for item in seen] == ["hello 2", "hello 1", "hello 0"]
        assert [item["status"] for item in seen] == ["unmatched", "synced", "synced"]
        assert all(item["day"] == "2025-11-25" and item["line_id"] for item in seen)
        assert seen[1]["match"]["entity"] == "ClientContact" and seen[1]["note_id"] is not None
        unmatched = (await stack.web.get("/api/conversations", params={"status": "unmatched"},
                                         headers=stack.api_headers)).json()["conversations"]
        assert [item["number"] for item in unmatched] == [caller("unknown").e164]


@pytest.mark.parametrize(("params", "field"), [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
                                               ({"status": "done"}, "status"), ({"cursor": "nope"}, "cursor")])
async def test_bad_conversation_list_parameters_are_400_naming_the_field(
    tmp_path: Path, params: dict[str, str], field: str,
) -> None:
    async with running_stack(tmp_path) as stack:
        answer = await stack.web.get("/api/conversations", params=params, headers=stack.api_headers)

        assert answer.status_code == 400
        assert f"'{field}'" in answer.json()["detail"]


async def test_one_conversation_shows_its_note_as_written_and_needs_the_api_key(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        await deliver_all(stack, texts(caller("candidate").raw_digits, Text(0, True, "<i>hi</i>")))
        await message_worker(stack).run_once()
        [item] = (await stack.web.get("/api/conversations", headers=stack.api_headers)).json()["conversations"]

        detail = (await stack.web.get(f"/api/conversations/{item['id']}", headers=stack.api_headers)).json()

        assert "&lt;i&gt;hi&lt;/i&gt;" in detail["note"]["comments"]
        assert detail["note"]["external_id"].startswith("aircall-sms:")
        assert (await stack.web.get(f"/api/conversations/{item['id']}")).status_code == 401
        assert (await stack.web.get("/api/conversations/999999", headers=stack.api_headers)).status_code == 404
        retried = await stack.web.post(f"/api/conversations/{item['id']}/retry", headers=stack.api_headers)
        assert retried.status_code == 202
        assert await message_worker(stack).run_once() == {"synced": 1}
        assert "POST entity/Note/{id}" not in stack.bullhorn.faults.requests
