"""Play realistic call lifecycles as Aircall webhooks against one URL.

Each call's events are sent at their offsets (compressed by `speed`), optionally redelivered
(the very same bytes, as Aircall's retries are) and shuffled within a small window (Aircall
promises at-least-once, in no particular order). Before each batch the call's state as of that
moment is registered with the Aircall fake, so `GET /v1/calls/{id}` and card pushes find it.

With the Aircall fake given, it also decides each attempt as Aircall would (sandbox.aircall_deliveries):
nothing is sent while the webhook is deactivated (the call is still registered, so `GET /v1/calls`
lists it: the gap backfill closes), and failures are reported so enough of them deactivate it.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from sandbox.ai_events import AI_CALL_KINDS, AiScript, ai_lifecycle, rest_answers
from sandbox.call_mix import CallerLike, plan_calls
from sandbox.calls import CallScript, ScheduledEvent, lifecycle

#: Aircall gives up on a delivery after 5 s
DELIVERY_TIMEOUT_S = 5.0
#: simulated seconds between retries of a failed delivery
RETRY_DELAY_S = 10.0
_DELIVERY_HEADERS = {"content-type": "application/json", "user-agent": "axios/1.7.7", "aircall-origin": "webhooks"}


@dataclass
class SimulationSummary:
    calls: int = 0
    #: distinct envelopes built
    events: int = 0
    #: HTTP requests to the webhook: events + redeliveries + retries
    deliveries: int = 0
    redeliveries: int = 0
    #: deliveries repeated because the webhook failed (non-2xx or no answer)
    retries: int = 0
    #: events Aircall did not send: the webhook was deactivated or does not subscribe to the event
    dropped: int = 0
    #: attempts that failed without being sent, because the Aircall fake's deliveries were failing
    failed: int = 0
    #: call states registered with the Aircall fake, and registrations it refused or never answered
    registered: int = 0
    registration_errors: int = 0
    #: webhook answers by status code ("error" when no answer came)
    by_status: Counter[str] = field(default_factory=Counter)

    def as_text(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.by_status.items())) or "none"
        return (f"calls {self.calls}, events {self.events}, deliveries {self.deliveries} "
                f"(redeliveries {self.redeliveries}, retries {self.retries}), "
                f"not sent: dropped {self.dropped}, failed {self.failed}; "
                f"call states registered {self.registered} (errors {self.registration_errors}); "
                f"webhook answers: {statuses}")


@dataclass(frozen=True)
class _Delivery:
    #: simulated seconds after the call started
    send_at_s: int
    event_index: int
    body: bytes
    redelivery: bool = False
    #: the envelope's event name (Aircall sends a webhook only the events it subscribes to)
    event: str = ""


def delivery_plan(
    events: Sequence[ScheduledEvent], rng: random.Random, *, redeliver: float, shuffle: bool, window: int
) -> list[_Delivery]:
    """When and in which order a call's events are sent.

    Shuffling holds each window of events until the last of them is due, then sends them in a
    random order, so no event ever arrives before it happened. A redelivery is the same bytes,
    sent again a few deliveries later.
    """
    bodies = [json.dumps(event.envelope, separators=(",", ":")).encode() for event in events]
    plan: list[_Delivery] = []
    size = window if shuffle and window > 1 else 1
    for start in range(0, len(events), size):
        indexes = list(range(start, min(start + size, len(events))))
        due = events[indexes[-1]].send_at_s
        if size > 1:
            rng.shuffle(indexes)
        plan.extend(_Delivery(due, index, bodies[index], event=str(events[index].envelope["event"]))
                    for index in indexes)
    for position in range(len(plan)):
        original = plan[position]
        if original.redelivery or rng.random() >= redeliver:
            continue
        later = min(len(plan), position + 1 + rng.randint(0, max(window, 1)))
        due = plan[later - 1].send_at_s if later > position + 1 else original.send_at_s
        plan.insert(later, _Delivery(due, original.event_index, original.body, redelivery=True, event=original.event))
    return plan


async def simulate(
    *,
    webhook_url: str,
    token: str,
    calls: int = 20,
    seed: int = 0,
    speed: float = 60.0,
    redeliver: float = 0.0,
    shuffle: bool = False,
    shuffle_window: int = 3,
    concurrency: int = 10,
    client: httpx.AsyncClient | None = None,
    aircall_url: str | None = None,
    aircall_auth: tuple[str, str] = ("demo-api-id", "demo-api-token"),
    callers: Sequence[CallerLike] | None = None,
    started_at: int | None = None,
    max_retries: int = 2,
    ai_share: float = 0.0,
) -> SimulationSummary:
    """Play `calls` seeded calls as webhooks to `webhook_url` and return what happened.

    :param speed: simulated seconds per real second (60: a minute of calls per second); 0 sends
        everything without waiting.
    :param redeliver: probability that an event is delivered a second time.
    :param shuffle: deliver each call's events out of order within windows of `shuffle_window`.
    :param client: used for every request; only `webhook_url` and `aircall_url` are ever called.
    :param aircall_url: base of the Aircall fake (e.g. http://127.0.0.1:8100/aircall) to register
        each call's state with; None registers nothing.
    :param callers: who calls; defaults to the demo tenant's callers.
    :param ai_share: share of the calls with a conversation that get Aircall AI events minutes after they
        end (`sandbox.ai_events`, in turns of its documented shapes); their REST answers are registered
        with the Aircall fake too.
    """
    if callers is None:
        from sandbox.demo_data import build_demo_data

        callers = build_demo_data().callers
    restamp = started_at is None and speed > 0
    if restamp:
        # each event carries the real moment it is sent (Aircall stamps an event when it builds it):
        # simulated time, compressed by `speed`, is mapped onto the wall clock from now on
        base = int(time.time())
    else:
        base = _anchor(calls, seed, callers, speed, ai_share) if started_at is None else started_at
    scripts = plan_calls(calls, seed=seed, callers=callers, started_at=base)
    summary = SimulationSummary(calls=len(scripts))
    own_client = client is None
    http = client or httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_S)
    clock_zero = time.monotonic()

    async def wait_until(simulated_s: float) -> None:
        if speed > 0:
            delay = clock_zero + simulated_s / speed - time.monotonic()
            if delay > 0:
                await anyio.sleep(delay)

    player = _CallPlayer(http, summary, webhook_url=webhook_url, aircall_url=aircall_url, aircall_auth=aircall_auth,
                         max_retries=max_retries, wait_until=wait_until)
    limiter = anyio.CapacityLimiter(max(concurrency, 1))
    rng = random.Random(seed + 1)
    try:
        async with anyio.create_task_group() as group:
            for script in scripts:
                events = lifecycle(script, token=token)
                shape = ai_shape(script, ai_share)
                if shape is not None:
                    events = sorted([*events, *ai_lifecycle(script, token=token, shape=shape)],
                                    key=lambda event: event.send_at_s)
                if restamp:
                    events = restamped(events, base=base, speed=speed)
                summary.events += len(events)
                plan = delivery_plan(events, rng, redeliver=redeliver, shuffle=shuffle, window=shuffle_window)
                group.start_soon(player.play, script, base, events, plan, limiter, shape)
    finally:
        if own_client:
            await http.aclose()
    return summary


#: the AI events' documented variants (reference/aircall-next.md §1), taken in turns by call id
AI_SHAPES = (
    AiScript(),
    AiScript(call_id_as="string", sentiment_in="content", action_items_as="one_list"),
    AiScript(without_content=frozenset({"summary", "transcript"})),
)


def ai_shape(script: CallScript, share: float) -> AiScript | None:
    """Whether (and how) the call gets AI events: a deterministic `share` of the calls with a conversation."""
    if script.kind not in AI_CALL_KINDS or share <= 0:
        return None
    if (script.call_id * 7919) % 1000 >= share * 1000:
        return None
    return AI_SHAPES[script.call_id % len(AI_SHAPES)]


#: the Call object's times (UNIX seconds), top level and in its tags and comments
_CALL_TIMES = ("started_at", "answered_at", "ended_at")


def stamped(envelope: Mapping[str, Any], *, base: int, speed: float) -> dict[str, Any]:
    """`envelope` with every time mapped from simulated seconds onto the wall clock (`base` is both's zero).

    Deterministic per event, so a redelivery carries the same timestamp as the first delivery.
    """
    def real(simulated: object) -> object:
        if not isinstance(simulated, int) or isinstance(simulated, bool):
            return simulated
        return base + round((simulated - base) / speed)

    if not str(envelope.get("event", "")).startswith("call."):
        return {**envelope, "timestamp": real(envelope.get("timestamp"))}
    data = dict(envelope.get("data") or {})
    for key in _CALL_TIMES:
        data[key] = real(data.get(key)) if data.get(key) is not None else data.get(key)
    if isinstance(data.get("started_at"), int) and isinstance(data.get("ended_at"), int):
        data["duration"] = data["ended_at"] - data["started_at"]
    if isinstance(data.get("tags"), list):
        data["tags"] = [{**tag, "tagged_at": real(tag.get("tagged_at"))} for tag in data["tags"]]
    if isinstance(data.get("comments"), list):
        data["comments"] = [{**comment, "posted_at": real(comment.get("posted_at"))} for comment in data["comments"]]
    return {**envelope, "timestamp": real(envelope.get("timestamp")), "data": data}


def restamped(events: Sequence[ScheduledEvent], *, base: int, speed: float) -> list[ScheduledEvent]:
    """The call's events stamped on the wall clock; two events of one kind never share a second.

    Compressed time can land them in one second, and `event:id:timestamp` is what tells a
    redelivery from a new event, so a later one moves to the next free second.
    """
    last: dict[str, int] = {}
    out: list[ScheduledEvent] = []
    for event in events:
        envelope = stamped(event.envelope, base=base, speed=speed)
        name = str(envelope["event"])
        if name in last and envelope["timestamp"] <= last[name]:
            envelope["timestamp"] = last[name] + 1
        last[name] = envelope["timestamp"]
        out.append(event._replace(envelope=envelope))
    return out


def _anchor(calls: int, seed: int, callers: Sequence[CallerLike], speed: float, ai_share: float) -> int:
    """Where simulated time starts so that no event is ever stamped later than it is sent.

    Aircall stamps an event when it builds it; compressed time would otherwise put the round's
    timestamps in the future, and everything measured from them (sync latency) would be nonsense.
    """
    def last_s(script: CallScript) -> int:
        shape = ai_shape(script, ai_share)
        ai = ai_lifecycle(script, token="", shape=shape) if shape is not None else []
        return max(event.send_at_s for event in [*lifecycle(script, token=""), *ai])

    span = max(
        (script.started_at + last_s(script) for script in plan_calls(calls, seed=seed, callers=callers, started_at=0)),
        default=0,
    )
    lag = span if speed <= 0 else span * (1 - 1 / speed)
    return int(time.time() - max(lag, 0))


class _CallPlayer:
    def __init__(
        self,
        http: httpx.AsyncClient,
        summary: SimulationSummary,
        *,
        webhook_url: str,
        aircall_url: str | None,
        aircall_auth: tuple[str, str],
        max_retries: int,
        wait_until: Callable[[float], Awaitable[None]],
    ) -> None:
        self.http = http
        self.summary = summary
        self.webhook_url = webhook_url
        self.calls_url = f"{aircall_url.rstrip('/')}/_sandbox/calls" if aircall_url else None
        self.insights_url = f"{aircall_url.rstrip('/')}/_sandbox/insights" if aircall_url else None
        self.webhooks_url = f"{aircall_url.rstrip('/')}/_sandbox/webhooks" if aircall_url else None
        self.aircall_auth = aircall_auth
        self.max_retries = max_retries
        self.wait_until = wait_until

    async def play(
        self, script: CallScript, base: int, events: list[ScheduledEvent], plan: list[_Delivery],
        limiter: anyio.CapacityLimiter, shape: AiScript | None = None,
    ) -> None:
        offset = script.started_at - base
        await self.wait_until(offset)
        async with limiter:
            registered = -1
            if shape is not None:
                await self._post(self.insights_url, {"call_id": script.call_id,
                                                     "answers": rest_answers(script, shape=shape)})
            call_events = [i for i, event in enumerate(events) if str(event.envelope["event"]).startswith("call.")]
            for delivery in plan:
                await self.wait_until(offset + delivery.send_at_s)
                # The fake should know the call as it is by now: the latest call event that has happened.
                latest = max(i for i in call_events if events[i].send_at_s <= delivery.send_at_s)
                if latest > registered:
                    await self._register(events[latest].envelope["data"])
                    registered = latest
                await self._deliver(delivery, offset)

    async def _register(self, call: object) -> None:
        await self._post(self.calls_url, {"call": call})

    async def _post(self, url: str | None, body: object) -> None:
        if url is None:
            return
        # A missing Aircall fake costs card pushes, not the webhooks the simulator exists to send.
        try:
            response = await self.http.post(url, json=body, auth=self.aircall_auth)
        except httpx.TransportError:
            self.summary.registration_errors += 1
            return
        if response.is_success:
            self.summary.registered += 1
        else:
            self.summary.registration_errors += 1

    async def _deliver(self, delivery: _Delivery, offset: int) -> None:
        summary = self.summary
        if delivery.redelivery:
            summary.redeliveries += 1
        for attempt in range(self.max_retries + 1):
            if attempt:
                summary.retries += 1
                await self.wait_until(offset + delivery.send_at_s + RETRY_DELAY_S * attempt)
            gate = await self._ask(delivery, retry=attempt > 0)
            if gate.get("reason") in ("inactive", "unsubscribed"):
                summary.dropped += 1
                return
            if gate.get("reason") == "failing":
                summary.failed += 1
                continue
            summary.deliveries += 1
            try:
                response = await self.http.post(self.webhook_url, content=delivery.body, headers=_DELIVERY_HEADERS,
                                                timeout=DELIVERY_TIMEOUT_S)
            except httpx.TransportError:
                summary.by_status["error"] += 1
                await self._report(gate, ok=False)
                continue
            summary.by_status[str(response.status_code)] += 1
            await self._report(gate, ok=response.is_success)
            if response.is_success:
                return

    async def _ask(self, delivery: _Delivery, *, retry: bool) -> dict[str, Any]:
        """The Aircall fake's word on this attempt; without one (none given, or it fails) the event is sent."""
        if self.webhooks_url is None:
            return {"deliver": True}
        try:
            response = await self.http.post(f"{self.webhooks_url}/deliveries", auth=self.aircall_auth,
                                            json={"url": self.webhook_url, "event": delivery.event, "retry": retry})
            answer = response.json() if response.is_success else {}
        except (httpx.TransportError, ValueError):
            answer = {}
        return answer if isinstance(answer, dict) else {}

    async def _report(self, gate: dict[str, Any], *, ok: bool) -> None:
        # Aircall counts consecutive failures: a success matters only after some
        webhook_id = gate.get("webhook_id")
        if self.webhooks_url is None or not webhook_id or (ok and not gate.get("failures")):
            return
        try:
            await self.http.post(f"{self.webhooks_url}/{webhook_id}/outcomes", json={"ok": ok}, auth=self.aircall_auth)
        except httpx.TransportError:
            pass
