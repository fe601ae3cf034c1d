"""Issue 14's acceptance for every fix, against the Aircall sandbox: a second run changes nothing, and
Aircall refusing the fix (403) or rate limiting it (429) is said in the check's detail, with nothing changed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from insight.domain.setup_checks import NEEDED_EVENTS
from insight.store.setup import webhook_tokens
from sandbox.aircall import AircallSandboxConfig
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.anyio

OUR_URL = "http://callbridge.test/webhooks/aircall"


def _no_webhook(stack: Stack) -> str:
    return "register_webhook"


def _deactivated_webhook(stack: Stack) -> str:
    stack.aircall.webhooks.add(url=OUR_URL, events=list(NEEDED_EVENTS), active=False, token="dashboard-token")
    return "enable_webhook"


def _missing_tags(stack: Stack) -> str:
    return "create_tags"


def _wrong_case_tag(stack: Stack) -> str:
    variant = stack.aircall.tag_book.create({"name": "left message", "color": "#00B388"})
    exact = next(tag for tag in stack.aircall.tag_book.tags.values() if tag["name"] == "Left Message")
    del stack.aircall.tag_book.tags[exact["id"]]
    return f"rename_tag:{variant['id']}"


#: each fix: what makes it needed, the Aircall write it makes (a fault pattern), the check it answers
FIXES: dict[str, tuple[Callable[[Stack], str], str]] = {
    "register_webhook": (_no_webhook, "POST webhooks"),
    "enable_webhook": (_deactivated_webhook, "PUT webhooks/*"),
    "create_tags": (_missing_tags, "POST tags"),
    "rename_tag": (_wrong_case_tag, "PUT tags/*"),
}


def aircall_state(stack: Stack) -> dict[str, Any]:
    return {"webhooks": copy.deepcopy(stack.aircall.webhooks.webhooks),
            "tags": copy.deepcopy(stack.aircall.tag_book.tags), "tokens": sorted(webhook_tokens(stack.store.engine))}


async def apply(stack: Stack, fix: str) -> dict[str, Any]:
    answer = await stack.web.post("/api/setup/fix", json={"fix": fix}, headers=stack.api_headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("name", sorted(FIXES))
async def test_running_a_fix_a_second_time_changes_nothing(tmp_path: Path, name: str) -> None:
    need, _ = FIXES[name]
    async with running_stack(tmp_path, aircall_config=AircallSandboxConfig(requests_per_minute=None)) as stack:
        fix = need(stack)
        before = aircall_state(stack)
        first = await apply(stack, fix)
        after_first = aircall_state(stack)
        second = await apply(stack, fix)
        after_second = aircall_state(stack)

    assert (first["changed"], first["status"]) == (True, "ok") and after_first != before
    assert (second["changed"], second["status"]) == (False, "ok")
    assert after_second == after_first
    assert second["detail"] == first["detail"]


@pytest.mark.parametrize("name", sorted(FIXES))
@pytest.mark.parametrize(("status", "graded", "why"), [
    (403, "fail", "check AIRCALL_API_ID and AIRCALL_API_TOKEN"),
    (429, "warn", "Aircall rate limited the"),
])
async def test_aircall_refusing_a_fix_is_said_in_the_checks_detail_and_nothing_changes(
    tmp_path: Path, name: str, status: int, graded: str, why: str
) -> None:
    need, write = FIXES[name]
    refusing = AircallSandboxConfig(requests_per_minute=None, error_rates={write: 1.0}, error_status=status)
    async with running_stack(tmp_path, aircall_config=refusing) as stack:
        fix = need(stack)
        before = aircall_state(stack)
        answer = await apply(stack, fix)
        after = aircall_state(stack)

    assert (answer["status"], answer["changed"]) == (graded, False)
    assert answer["detail"].startswith("callbridge could not ") and why in answer["detail"]
    assert after == before
