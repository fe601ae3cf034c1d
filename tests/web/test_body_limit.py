"""Request bodies are bounded in time and, for webhooks, in bytes held at once (DESIGN §14).

The app is driven at the ASGI level so a test can play a client that sends part of a body and stalls.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.types import Message

from tests.stack import Stack, running_stack

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(
        tmp_path, CALLBRIDGE_BODY_TIMEOUT_S="0.3", CALLBRIDGE_WEBHOOK_BYTES_IN_FLIGHT="1000"
    ) as running:
        yield running


class StalledClient:
    """Sends `sent` bytes of a body it declares longer, then nothing: receive blocks until released."""

    def __init__(self, sent: bytes, *, declared: int) -> None:
        self.sent = sent
        self.declared = declared
        self.release = anyio.Event()
        self.replies: list[Message] = []
        self._chunks = [sent]

    async def receive(self) -> Message:
        if self._chunks:
            return {"type": "http.request", "body": self._chunks.pop(), "more_body": True}
        await self.release.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.replies.append(message)

    @property
    def status(self) -> int | None:
        return next((reply["status"] for reply in self.replies if reply["type"] == "http.response.start"), None)

    @property
    def headers(self) -> dict[str, str]:
        start = next(reply for reply in self.replies if reply["type"] == "http.response.start")
        return {name.decode(): value.decode() for name, value in start["headers"]}

    def json(self) -> Any:
        body = b"".join(reply.get("body", b"") for reply in self.replies if reply["type"] == "http.response.body")
        return json.loads(body)


def _scope(path: str, declared: int) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"callbridge.test"), (b"content-type", b"application/json"),
                    (b"content-length", str(declared).encode())],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def _play(stack: Stack, client: StalledClient, path: str = "/webhooks/aircall") -> None:
    await stack.asgi(_scope(path, client.declared), client.receive, client.send)


async def test_a_webhook_body_that_stalls_past_the_deadline_answers_408_and_closes_the_connection(
    stack: Stack,
) -> None:
    client = StalledClient(b'{"token": "', declared=400)
    started = anyio.current_time()
    with anyio.fail_after(5):
        await _play(stack, client)
    assert anyio.current_time() - started < 2
    assert client.status == 408
    assert client.json()["error"] == "request_timeout"
    assert client.headers["connection"] == "close"


async def test_webhook_bodies_beyond_the_bytes_in_flight_answer_503_at_once_and_the_budget_comes_back(
    stack: Stack,
) -> None:
    holder = StalledClient(b" " * 800, declared=900)
    latecomer = StalledClient(b" " * 300, declared=900)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(_play, stack, holder)
            await anyio.sleep(0.05)  # the holder's 800 bytes are in flight
            await _play(stack, latecomer)
            assert holder.status is None  # "at once": refused while the holder is still sending, not after it
        assert latecomer.status == 503 and latecomer.json()["error"] == "busy"
        assert latecomer.headers["connection"] == "close"
        assert holder.status == 408
        again = StalledClient(b" " * 300, declared=900)
        await _play(stack, again)
    assert again.status == 408  # admitted this time: the holder's bytes were given back


async def test_a_normal_webhook_still_gets_through_under_the_budget(stack: Stack) -> None:
    answer = await stack.web.post("/webhooks/aircall", json={"token": "wrong"})
    assert answer.status_code == 401
