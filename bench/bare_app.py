"""The ceiling of the HTTP stack: a bare Starlette endpoint that parses the body and answers.

    uvicorn bench.bare_app:create_app --factory   (POST anything JSON to /webhooks/aircall)
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def accept(request: Request) -> JSONResponse:
    await request.json()
    return JSONResponse({"status": "accepted"})


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app() -> Starlette:
    return Starlette(routes=[Route("/webhooks/aircall", accept, methods=["POST"]), Route("/healthz", healthz)])
