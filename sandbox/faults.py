"""Latency, rate limiting and fault injection for the sandbox fakes, as pure ASGI middleware.

Each fake names its endpoints (`"PUT entity/Note"`, `"POST oauth/token"`) with its own
`endpoint_of(scope)`; faults target them with shell patterns (`"* search/*"`, or `"search/*"`,
which means any method). The fake supplies its own error bodies, so the Aircall fake can reuse it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ErrorResponder = Callable[[int, str], Response]


@dataclass
class FaultConfig:
    """Knobs shared by the fakes; mutable so a running sandbox can be retuned."""

    latency_ms: float = 0.0
    #: None = no limit; otherwise a token bucket refilled at this rate holding one second of burst
    rate_limit_per_s: float | None = None
    #: endpoint pattern -> probability of an error answer (nothing applied)
    error_rates: dict[str, float] = field(default_factory=dict)
    error_status: int = 500
    #: endpoint pattern -> probability of a held answer ending in 504 (nothing applied)
    timeout_rates: dict[str, float] = field(default_factory=dict)
    #: endpoint pattern -> probability that the request IS applied but its answer is lost (504)
    lost_answer_rates: dict[str, float] = field(default_factory=dict)
    timeout_hold_s: float = 0.0
    fault_seed: int = 7
    clock: Callable[[], float] = time.time


@dataclass
class ScriptedFault:
    """The next `remaining` requests to `endpoint` answer `status`, after `hold_s`.

    With `lost_answer` the request is handled first (a write is applied) and its answer dropped,
    the case that makes a client write twice if it trusts the error.
    """

    endpoint: str
    status: int = 500
    remaining: int = 1
    lost_answer: bool = False
    hold_s: float = 0.0

    def as_json(self) -> dict[str, object]:
        return {"endpoint": self.endpoint, "status": self.status, "remaining": self.remaining,
                "lost_answer": self.lost_answer, "hold_s": self.hold_s}


def endpoint_matches(pattern: str, endpoint: str) -> bool:
    if " " not in pattern:
        pattern = "* " + pattern
    return fnmatchcase(endpoint, pattern)


def _rate_for(rates: Mapping[str, float], endpoint: str) -> float:
    return max((rate for pattern, rate in rates.items() if endpoint_matches(pattern, endpoint)), default=0.0)


class TokenBucket:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tokens: float | None = None
        self._last = 0.0

    def take(self, rate_per_s: float) -> bool:
        now = self._clock()
        if self._tokens is None:
            self._tokens = rate_per_s
        else:
            self._tokens = min(rate_per_s, self._tokens + (now - self._last) * rate_per_s)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


@dataclass(frozen=True)
class Decision:
    status: int
    hold_s: float
    lost_answer: bool
    reason: str


class FaultInjector:
    """The live state behind a FaultConfig: RNG, bucket, scripted queue and counters."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.scripted: list[ScriptedFault] = []
        self.requests: Counter[str] = Counter()
        self.rate_limited = 0
        self.faults_injected: Counter[str] = Counter()
        self.reset()

    def reset(self) -> None:
        self.rng = random.Random(self.config.fault_seed)
        self.bucket = TokenBucket(lambda: self.config.clock())
        self.scripted.clear()
        self.requests.clear()
        self.faults_injected.clear()
        self.rate_limited = 0

    def script(self, fault: ScriptedFault) -> None:
        self.scripted.append(fault)

    def allow(self) -> bool:
        rate = self.config.rate_limit_per_s
        if rate is None or self.bucket.take(rate):
            return True
        self.rate_limited += 1
        return False

    def decide(self, endpoint: str) -> Decision | None:
        for fault in self.scripted:
            if fault.remaining > 0 and endpoint_matches(fault.endpoint, endpoint):
                fault.remaining -= 1
                self.scripted[:] = [f for f in self.scripted if f.remaining > 0]
                return self._count(Decision(fault.status, fault.hold_s, fault.lost_answer, "scripted"), endpoint)
        config = self.config
        # One draw per request keeps a seeded run reproducible whatever the rates are.
        draw = self.rng.random()
        error = _rate_for(config.error_rates, endpoint)
        timeout = error + _rate_for(config.timeout_rates, endpoint)
        lost = timeout + _rate_for(config.lost_answer_rates, endpoint)
        if draw < error:
            return self._count(Decision(config.error_status, 0.0, False, "error"), endpoint)
        if draw < timeout:
            return self._count(Decision(504, config.timeout_hold_s, False, "timeout"), endpoint)
        if draw < lost:
            return self._count(Decision(504, config.timeout_hold_s, True, "lost_answer"), endpoint)
        return None

    def _count(self, decision: Decision, endpoint: str) -> Decision:
        self.faults_injected[f"{decision.reason} {endpoint}"] += 1
        return decision


class FaultMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        injector: Callable[[], FaultInjector],
        endpoint_of: Callable[[Scope], str | None],
        error_response: ErrorResponder,
        rate_limited_response: Callable[[], Response],
    ) -> None:
        self.app = app
        self.injector = injector
        self.endpoint_of = endpoint_of
        self.error_response = error_response
        self.rate_limited_response = rate_limited_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoint_of(scope) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        injector = self.injector()
        injector.requests[endpoint] += 1
        if not injector.allow():
            await self.rate_limited_response()(scope, receive, send)
            return
        if injector.config.latency_ms > 0:
            await asyncio.sleep(injector.config.latency_ms / 1000)
        decision = injector.decide(endpoint)
        if decision is None:
            await self.app(scope, receive, send)
            return
        if decision.lost_answer:
            await self.app(scope, receive, _discard)
        if decision.hold_s > 0:
            await asyncio.sleep(decision.hold_s)
        message = "Gateway timeout" if decision.status == 504 else "Injected fault"
        await self.error_response(decision.status, message)(scope, receive, send)


async def _discard(message: Message) -> None:
    return None


def path_in_app(scope: Scope) -> str:
    """The request path relative to where the app is mounted."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path
