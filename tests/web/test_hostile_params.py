"""Query parameters written to break parsers are 400s with a JSON error, never 500s (DESIGN §14)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.stack import Stack, running_stack

pytestmark = pytest.mark.anyio

#: deeper than Python's recursion limit: json.loads raises RecursionError on it
NESTED = base64.urlsafe_b64encode(b"[" * 5_000 + b"]" * 5_000).decode().rstrip("=")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path) as running:
        yield running


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/api/calls", {"limit": "²"}, "limit"),
        ("/api/calls", {"limit": "١٠"}, "limit"),
        ("/api/calls", {"limit": "9" * 5000}, "limit"),
        ("/api/summary", {"hours": "²"}, "hours"),
        ("/api/summary", {"hours": "¹²"}, "hours"),
        ("/api/calls", {"cursor": NESTED[:200]}, "cursor"),
        ("/api/calls", {"cursor": base64.urlsafe_b64encode(b"[" * 150 + b"]" * 150).decode()}, "cursor"),
        ("/api/calls", {"cursor": NESTED}, "cursor"),
    ],
    ids=["superscript_limit", "arabic_indic_limit", "huge_limit", "superscript_hours", "superscript_hours_2",
         "nested_cursor_prefix", "nested_cursor", "huge_nested_cursor"],
)
async def test_unicode_digits_and_nested_cursors_are_a_400_naming_the_parameter(
    stack: Stack, path: str, params: dict[str, str], named: str
) -> None:
    answer = await stack.web.get(path, params=params, headers=stack.api_headers)

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_parameter" and f"'{named}'" in answer.json()["detail"]
