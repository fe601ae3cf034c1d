"""Bullhorn's live user directory (`query/CorporateUser where isDeleted=false`), read page by page.

Whether `where email=…` compares case-insensitively depends on the tenant's database collation, so
rather than one query per agent the whole directory (a few hundred rows at most) is read and matched
in `insight.domain.authors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from insight.domain.authors import DIRECTORY_FIELDS, UserDirectory, build_directory

_PAGE = 500


class UserQuery(Protocol):
    async def query(self, entity: str, where: str, *, fields: str, count: int = 20, start: int = 0,
                    order_by: str | None = None) -> dict[str, Any]: ...


async def read_user_directory(bullhorn: UserQuery) -> UserDirectory:
    users: list[Mapping[str, Any]] = []
    start = 0
    while True:
        answer = await bullhorn.query("CorporateUser", "isDeleted=false", fields=DIRECTORY_FIELDS, count=_PAGE,
                                      start=start, order_by="id")
        page = [user for user in answer.get("data") or [] if isinstance(user, Mapping)]
        users.extend(page)
        if len(page) < _PAGE:
            return build_directory(users)
        start += _PAGE
