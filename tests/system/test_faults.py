from __future__ import annotations

import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from sandbox.faults import FaultConfig, FaultInjector, FaultMiddleware, ScriptedFault, TokenBucket, endpoint_matches
from tests.clocks import FakeClock


def tiny_app(config: FaultConfig) -> tuple[Starlette, FaultInjector, list[str]]:
    injector = FaultInjector(config)
    writes: list[str] = []

    async def write(request: Request) -> Response:
        writes.append(request.path_params["name"])
        return JSONResponse({"written": request.path_params["name"]})

    def endpoint_of(scope: Scope) -> str | None:
        path: str = scope["path"]
        return None if path.startswith("/_") else f"{scope['method']} {path.strip('/')}"

    app = Starlette(routes=[Route("/things/{name}", write, methods=["PUT"]),
                            Route("/_inspect", lambda request: PlainTextResponse("ok"))])
    app.add_middleware(FaultMiddleware, injector=lambda: injector, endpoint_of=endpoint_of,
                       error_response=lambda status, message: JSONResponse({"message": message}, status_code=status),
                       rate_limited_response=lambda: JSONResponse({"limited": True}, status_code=429))
    return app, injector, writes


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake.test")


def test_a_pattern_without_a_method_matches_every_method() -> None:
    assert endpoint_matches("entity/Note", "PUT entity/Note")
    assert endpoint_matches("* search/*", "POST search/Candidate")
    assert endpoint_matches("PUT entity/Note", "PUT entity/Note")
    assert not endpoint_matches("PUT entity/Note", "POST entity/Note/{id}")


def test_the_token_bucket_holds_one_second_of_burst_and_refills_with_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(clock)
    assert [bucket.take(3) for _ in range(4)] == [True, True, True, False]
    clock.now += 0.34
    assert [bucket.take(3) for _ in range(2)] == [True, False]


def test_seeded_random_faults_repeat_exactly() -> None:
    def run() -> list[str]:
        injector = FaultInjector(FaultConfig(error_rates={"*": 0.3}, fault_seed=11))
        return [decision.reason if decision else "ok" for decision in (injector.decide("GET x") for _ in range(40))]

    first = run()
    assert first == run()
    assert 0 < first.count("error") < 40


def test_rates_only_apply_to_matching_endpoints() -> None:
    injector = FaultInjector(FaultConfig(timeout_rates={"PUT entity/Note": 1.0}))
    assert injector.decide("GET ping") is None
    decision = injector.decide("PUT entity/Note")
    assert decision is not None and decision.status == 504 and not decision.lost_answer


@pytest.mark.anyio
async def test_requests_past_the_rate_limit_get_the_fakes_429() -> None:
    clock = FakeClock()
    app, injector, writes = tiny_app(FaultConfig(rate_limit_per_s=2, clock=clock))
    async with client(app) as http:
        statuses = [(await http.put(f"/things/{n}")).status_code for n in range(3)]
        clock.now += 1
        later = await http.put("/things/later")
    assert statuses == [200, 200, 429]
    assert later.status_code == 200
    assert writes == ["0", "1", "later"]
    assert injector.rate_limited == 1


@pytest.mark.anyio
async def test_a_scripted_fault_answers_its_status_for_the_next_n_requests_without_applying_them() -> None:
    app, injector, writes = tiny_app(FaultConfig())
    injector.script(ScriptedFault("PUT things/*", status=503, remaining=2))
    async with client(app) as http:
        statuses = [(await http.put(f"/things/{n}")).status_code for n in range(3)]
    assert statuses == [503, 503, 200]
    assert writes == ["2"]
    assert injector.scripted == []


@pytest.mark.anyio
async def test_a_lost_answer_applies_the_request_but_answers_an_error() -> None:
    app, injector, writes = tiny_app(FaultConfig())
    injector.script(ScriptedFault("things/a", status=500, lost_answer=True))
    async with client(app) as http:
        answer = await http.put("/things/a")
    assert answer.status_code == 500
    assert "written" not in answer.text
    assert writes == ["a"]


@pytest.mark.anyio
async def test_latency_and_held_answers_delay_the_response() -> None:
    app, injector, _ = tiny_app(FaultConfig(latency_ms=30))
    injector.script(ScriptedFault("things/slow", status=504, hold_s=0.05))
    async with client(app) as http:
        started = time.perf_counter()
        await http.put("/things/fast")
        fast = time.perf_counter() - started
        started = time.perf_counter()
        slow = await http.put("/things/slow")
        held = time.perf_counter() - started
    assert fast >= 0.03
    assert held >= 0.08 and slow.status_code == 504


@pytest.mark.anyio
async def test_unnamed_endpoints_pass_untouched_and_uncounted() -> None:
    app, injector, _ = tiny_app(FaultConfig(error_rates={"*": 1.0}, rate_limit_per_s=1))
    async with client(app) as http:
        answers = [await http.get("/_inspect") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert sum(injector.requests.values()) == 0
