"""Query parameters an API route does not declare are refused (400 naming them).

A typo such as `/api/calls?statuses=failed` would otherwise answer as if no filter had been asked,
and whoever reads the answer would not know. The declared names come from the OpenAPI document
(`insight.web.openapi`), the one list of what each operation reads, so nothing is kept in step by
hand. The check runs once the API key is accepted (`require_api_key`): a client without the key
learns nothing about a route's parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from starlette.requests import Request

from insight.web.api_errors import ApiError
from insight.web.openapi import openapi_document

#: `{call_id:call_id}` in a route is `{call_id}` in the document
_CONVERTOR = re.compile(r"\{(\w+):[^}]+\}")
Declared = Mapping[tuple[str, str], frozenset[str]]


def declared_query(document: Mapping[str, Any]) -> Declared:
    """(METHOD, path template) → the query parameter names the operation declares."""
    declared: dict[tuple[str, str], frozenset[str]] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            names = {parameter["name"] for parameter in operation.get("parameters", [])
                     if parameter.get("in") == "query"}
            declared[(method.upper(), path)] = frozenset(names)
    return declared


@cache
def _declared() -> Declared:
    return declared_query(openapi_document())


def refuse_unknown_query(request: Request) -> None:
    """400 naming the query names the request's route does not declare; routes outside the document pass."""
    if not request.query_params:
        return
    path = getattr(request.scope.get("route"), "path", None)
    if not isinstance(path, str):
        return
    allowed = _declared().get((request.method, _CONVERTOR.sub(r"{\1}", path)))
    if allowed is None:
        return
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        named = ", ".join(repr(name[:40]) for name in unknown[:5])
        reads = ", ".join(sorted(allowed)) or "none"
        raise ApiError(400, f"unknown query parameter(s) {named}; this route reads: {reads}", error="unknown_parameter")
