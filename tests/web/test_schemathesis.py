"""schemathesis against `/openapi.json`: generated requests (valid and invalid) to the whole running stack.

Every answer must be no 5xx, a documented status, the documented content type and body schema; an
invalid request must be refused with a 4xx. Cases go through the stack's in-process client (the
app runs in one event loop, driven from this thread through an anyio portal), bounded and
derandomized so the run is fast and repeatable.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from insight.web.openapi import openapi_document
from insight.web.signing import card_url
from sandbox.calls import CallKind, CallScript, lifecycle
from sandbox.people import AGENTS, LINES
from tests.stack import WEBHOOK_TOKEN, Stack, demo_data, running_stack

#: per operation and generation mode: enough to hit every parameter, few enough for < 30 s in all
MAX_EXAMPLES = 12
KNOWN_CALL = 900_000_777
POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, negative_data_rejection]

SCHEMA = schemathesis.openapi.from_dict(openapi_document())


def _loaded(result: Any) -> Any:
    if not isinstance(result, Ok):
        raise AssertionError(f"schemathesis cannot load an operation of insight/openapi.py: {result!r}")
    return result.ok()


OPERATIONS = [_loaded(result) for result in SCHEMA.get_all_operations()]


@pytest.fixture(scope="module")
def driven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BlockingPortal, Stack]]:
    """The stack with one finished call from a known caller, so call routes answer 200 as well as 404."""
    caller = next(caller for caller in demo_data().callers if caller.kind == "candidate")
    script = CallScript(call_id=KNOWN_CALL, kind=CallKind.INBOUND_ANSWERED, agent=AGENTS[0], line=LINES[0],
                        raw_digits=caller.raw_digits, started_at=1_795_000_000, talk_s=60)
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(
        running_stack(tmp_path_factory.mktemp("schemathesis"))
    ) as stack:
        for event in lifecycle(script, token=WEBHOOK_TOKEN):
            assert portal.call(stack.deliver, event.envelope).status_code == 200
        portal.call(stack.settle)
        yield portal, stack


def _send(portal: BlockingPortal, stack: Stack, case: Case[Any], **overrides: Any) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url=str(stack.web.base_url).rstrip("/"), headers=overrides)
    # no operation reads cookies, so none are sent (httpx deprecates per-request cookies)
    request: dict[str, Any] = {"headers": kwargs.get("headers"), "params": kwargs.get("params")}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]

    async def call() -> httpx.Response:
        return await stack.web.request(kwargs["method"], kwargs["url"], **request)

    return portal.call(call)


def _run(portal: BlockingPortal, stack: Stack, operation: Any, mode: GenerationMode, **fixed: Any) -> None:
    auth = {"Authorization": stack.api_headers["Authorization"]} if operation.path.startswith("/api/") else {}
    checks = POSITIVE_CHECKS if mode is GenerationMode.POSITIVE else NEGATIVE_CHECKS

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Case[Any]) -> None:
        response = _send(portal, stack, case, **auth)
        case.validate_response(response, checks=checks, headers=auth)

    check()


def _negatable(operation: Any) -> bool:
    return bool(operation.body or any(True for _ in operation.iter_parameters()))


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: f"{operation.method} {operation.path}")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
def test_generated_requests_get_a_documented_answer_and_never_a_5xx(
    driven: tuple[BlockingPortal, Stack], operation: Any, mode: GenerationMode
) -> None:
    portal, stack = driven
    if mode is GenerationMode.NEGATIVE and not _negatable(operation):
        pytest.skip("nothing to make invalid: no parameters and no body")
    _run(portal, stack, operation, mode)


@pytest.mark.parametrize("path", sorted({o.path for o in OPERATIONS if "{call_id}" in o.path}))
def test_the_routes_of_a_known_call_answer_as_documented(driven: tuple[BlockingPortal, Stack], path: str) -> None:
    portal, stack = driven
    signed = httpx.URL(card_url("http://x", KNOWN_CALL, key=stack.settings.signing_key.get(), now=time.time()))
    for operation in (o for o in OPERATIONS if o.path == path):
        query = {"exp": signed.params["exp"], "sig": signed.params["sig"]} if path.startswith("/cards/") else None
        _run(portal, stack, operation, GenerationMode.POSITIVE, path_parameters={"call_id": KNOWN_CALL}, query=query)


def test_the_known_call_was_stored_so_its_routes_were_really_exercised(driven: tuple[BlockingPortal, Stack]) -> None:
    portal, stack = driven
    response = portal.call(lambda: stack.web.get(f"/api/calls/{KNOWN_CALL}", headers=stack.api_headers))

    assert response.status_code == 200
