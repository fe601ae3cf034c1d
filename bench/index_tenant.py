"""The tenant `bench.index` measures: `records` people of the demo's kind, and a sample of their numbers."""

from __future__ import annotations

import random

from insight.domain.matching import PHONE_FIELDS
from insight.domain.phones import normalize
from sandbox.demo_data import DemoData, build_demo_data


def tenant(records: int) -> DemoData:
    """`records` people: 80% candidates, the rest contacts (one placeholder per company among them)."""
    companies = max(2, records // 100)
    contacts = max(12, records // 5 - companies)
    return build_demo_data(candidates=max(12, records - contacts - companies), contacts=contacts,
                           companies=companies)


def live_numbers(data: DemoData, count: int, seed: int = 8) -> list[str]:
    """Distinct E.164 numbers of live records, in random order."""
    numbers = {
        e164 for entity, table in (("Candidate", data.candidates), ("ClientContact", data.contacts))
        for record in table.values() if not record["isDeleted"] and record.get("status") not in ("Archive", "Archived")
        for name in PHONE_FIELDS[entity] if record.get(name) and (e164 := normalize(record[name], "US"))
    }
    return random.Random(seed).sample(sorted(numbers), min(count, len(numbers)))
