"""Deterministic demo tenant for the Bullhorn fake (INTERFACE FIRST, body in progress)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PHONE_FIELDS: dict[str, tuple[str, ...]] = {
    "Candidate": ("phone", "mobile", "workPhone", "phone2", "phone3"),
    "ClientContact": ("phone", "mobile", "phone2", "phone3"),
}


@dataclass(frozen=True)
class Caller:
    #: as Aircall writes it: international format with spaces, e.g. "+44 20 7946 0958"
    raw_digits: str
    e164: str
    #: (entity, id) in rank order; empty when nobody live owns the number
    expected: tuple[tuple[str, int], ...]


@dataclass
class DemoData:
    candidates: dict[int, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    companies: dict[int, dict[str, Any]] = field(default_factory=dict)
    corporate_users: dict[int, dict[str, Any]] = field(default_factory=dict)
    comment_actions: list[str] = field(default_factory=list)
    callers: list[Caller] = field(default_factory=list)


def build_demo_data(
    seed: int = 20261125, candidates: int = 600, contacts: int = 180, companies: int = 45
) -> DemoData:
    raise NotImplementedError
