"""The JPQL-ish `where` of Bullhorn's `query/{Entity}` (INTERFACE FIRST, body in progress)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class WhereSyntaxError(ValueError):
    """The where clause does not parse; the message names what is wrong (Bullhorn answers 400)."""


class CompiledWhere:
    #: dotted paths the clause reads, e.g. {"email", "owner.id"} (to reject unknown fields)
    paths: frozenset[str]

    def __call__(self, record: Mapping[str, Any]) -> bool:
        raise NotImplementedError


def compile_where(where: str, *, case_insensitive: bool = True) -> CompiledWhere:
    raise NotImplementedError
