"""The operations an app really serves, read from its routes (mounts included), to compare with the contract."""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.routing import BaseRoute, Mount, Route

_CONVERTOR = re.compile(r"\{(\w+):\w+\}")


def app_operations(routes: Iterable[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path template) for every route; HEAD is left out, Starlette adds it to every GET."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= app_operations(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            path = _CONVERTOR.sub(r"{\1}", prefix + route.path)
            found |= {(method, path) for method in route.methods or {"GET"} if method != "HEAD"}
        else:
            raise AssertionError(f"a route of an unknown kind, describe it in insight/openapi.py: {route!r}")
    return found


def concrete(path: str, call_id: int = 1) -> str:
    """A requestable URL of a path template."""
    return path.replace("{call_id}", str(call_id)).replace("{conversation_id}", str(call_id))
