"""The card context's Bullhorn fetches stay within their share of requests: beyond it they are skipped, never queued."""

from __future__ import annotations

from pathlib import Path

import pytest

from insight.domain.matching import Match
from insight.lookup.context import READS_BURST, READS_PER_RECORD, ContextService
from insight.store.loop_reads import LoopReader
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _candidates(stack: Stack, count: int) -> list[Match]:
    live = [row for row in stack.bullhorn.data.candidates.values() if not row.get("isDeleted")][:count]
    return [Match("Candidate", row["id"], f"{row['firstName']} {row['lastName']}", None, None, row.get("status"),
                  "mobile", 0, True) for row in live]


def _context_requests(stack: Stack) -> int:
    return sum(count for endpoint, count in stack.bullhorn.faults.requests.items()
               if "/notes" in endpoint or "JobSubmission" in endpoint or "Placement" in endpoint)


async def test_a_burst_of_new_callers_fetches_the_burst_allowance_and_skips_the_rest_until_it_refills(
    tmp_path: Path,
) -> None:
    records_in_burst = int(READS_BURST // READS_PER_RECORD)
    async with running_stack(tmp_path) as stack:
        clock = Clock()
        context = ContextService(stack.services.bullhorn, LoopReader(stack.store.engine), ttl_s=600, clock=clock,
                                 reads_per_minute=60)
        people = _candidates(stack, records_in_burst + 4)
        before = _context_requests(stack)

        for person in people:  # each ring's card waits for its own person's part
            await context.settled([person])
        fetched = [person for person in people if context.cached(person) is not None]
        clock.now += 3 * 60 / 60  # 60 a minute: one more record's three reads
        for person in people:
            await context.settled([person])

        assert len(fetched) == records_in_burst
        assert context.skipped == 4 + 3  # four in the burst, then three of the four once one more was allowed
        assert sum(context.cached(person) is not None for person in people) == records_in_burst + 1
        assert _context_requests(stack) - before == (records_in_burst + 1) * READS_PER_RECORD


async def test_settled_says_whether_anything_from_bullhorn_can_have_come_in(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        clock = Clock()
        context = ContextService(stack.services.bullhorn, LoopReader(stack.store.engine), ttl_s=600, clock=clock,
                                 reads_per_minute=60)
        people = _candidates(stack, int(READS_BURST // READS_PER_RECORD) + 1)

        fetched = [await context.settled([person]) for person in people]
        again = await context.settled([people[0]])

        assert fetched == [True] * (len(people) - 1) + [False]  # the last one was skipped: nothing came in
        assert again is True  # known already
