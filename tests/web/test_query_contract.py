from __future__ import annotations

from pathlib import Path

import pytest

from insight.web.openapi import openapi_document
from insight.web.query_contract import declared_query
from tests.stack import running_stack

pytestmark = pytest.mark.anyio


async def test_a_misspelt_filter_is_a_400_naming_it_instead_of_an_unfiltered_answer(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        answer = await stack.web.get("/api/calls", params={"statuses": "failed"}, headers=stack.api_headers)

    assert answer.status_code == 400
    assert answer.json()["error"] == "unknown_parameter"
    assert "'statuses'" in answer.json()["detail"] and "status" in answer.json()["detail"]


async def test_declared_parameters_pass_on_routes_with_a_path_convertor_too(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        calls = await stack.web.get("/api/calls", params={"status": "failed", "limit": "5"}, headers=stack.api_headers)
        tags = await stack.web.get("/api/tags", params={"days": "7"}, headers=stack.api_headers)
        detail = await stack.web.get("/api/calls/123", params={"x": "1"}, headers=stack.api_headers)

    assert calls.status_code == 200 and tags.status_code == 200
    assert detail.status_code == 400 and "this route reads: none" in detail.json()["detail"]


def test_every_query_parameter_a_handler_reads_is_declared_in_the_document() -> None:
    declared = declared_query(openapi_document())

    assert declared[("GET", "/api/summary")] == {"hours"}
    assert declared[("GET", "/api/tags")] == {"days"}
    assert declared[("GET", "/cards/{call_id}")] == {"exp", "sig"}
