"""Walking every record of an entity with `search`, skipping none whichever way Bullhorn compares ids.

Whether a Lucene range on `id` compares numbers or text is unknown (DESIGN §10): under text,
`id:[1001 TO *]` leaves out 10000, so a cursor of id ranges can skip records. Pages are therefore
`start`/`count` over `id:[1 TO *]`, the one range every id matches either way (≥ 1 as a number, ≥
"1" as text), sorted by id. An offset moves when records before it are hard-deleted mid-walk, so
each page overlaps the last by one row, the anchor, and checks it still stands there; when it does
not, the anchor is looked for a page back, and when it is gone too the walk starts again (writing a
page twice changes nothing). The walk is complete only once it has passed the entity's total count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("callbridge.phone_index")

#: every record, whether `id` ranges compare numbers or text
ALL_RECORDS = "id:[1 TO *]"


class PageSearch(Protocol):
    async def search(self, entity: str, query: str, *, fields: str, count: int = 20, start: int = 0,
                     sort: str | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Page:
    #: records the walk had not passed yet, in order
    rows: list[dict[str, Any]]
    #: rows of the entity passed once this page is stored
    walked: int
    #: the entity's record count as this answer gave it
    total: int

    @property
    def done(self) -> bool:
        return not self.rows or self.walked >= self.total

    def anchor(self, previous: int) -> int:
        last = self.rows[-1].get("id") if self.rows else None
        return last if isinstance(last, int) else previous


async def next_page(bullhorn: PageSearch, entity: str, *, fields: str, walked: int, anchor: int,
                    page_size: int) -> Page:
    """The `page_size` rows after `walked` rows, the last of which was record `anchor`.

    Every request but the first asks one row more, the anchor: `page_size` must stay below Bullhorn's cap.
    """

    async def rows_from(start: int, count: int = page_size + 1) -> tuple[list[dict[str, Any]], int | None]:
        answer = await bullhorn.search(entity, ALL_RECORDS, fields=fields, count=count, start=start, sort="id")
        rows = [row for row in answer.get("data") or [] if isinstance(row, dict)]
        total = answer.get("total")
        return rows, total if isinstance(total, int) else None

    def page(rows: list[dict[str, Any]], start: int, total: int | None) -> Page:
        # without a total, a short page is the last one
        return Page(rows, start + len(rows), total if total is not None else start + len(rows))

    if walked == 0:
        rows, total = await rows_from(0, page_size)
        return page(rows, 0, total)
    rows, total = await rows_from(walked - 1)
    if rows and rows[0].get("id") == anchor:
        return page(rows[1:], walked, total)
    # records before the anchor were deleted meanwhile, so the rows moved down: find it a page back
    back = max(0, walked - page_size)
    rows, total = await rows_from(back)
    ids = [row.get("id") for row in rows]
    if anchor in ids:
        at = ids.index(anchor) + 1
        return page(rows[at:], back + at, total)
    log.info("phone index: %s moved under the scan (record %d gone); walking it again from the start",
             entity, anchor)
    rows, total = await rows_from(0, page_size)
    return page(rows, 0, total)
