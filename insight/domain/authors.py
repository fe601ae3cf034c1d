"""Agent e-mail -> Bullhorn CorporateUser: the one matching rule, for note authors and the setup doctor.

Agents are matched by e-mail, ignoring case, among enabled users that are not deleted (a disabled
user is also `isDeleted=true`, and an old disabled twin often shares the e-mail); when two live users
share an e-mail the older account (lower id) wins, every time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: the CorporateUser fields the directory needs
DIRECTORY_FIELDS = "id,email,username,enabled,isDeleted"


@dataclass(frozen=True)
class UserDirectory:
    by_email: Mapping[str, int]
    by_username: Mapping[str, int]

    def user_for_email(self, email: str | None) -> int | None:
        return self.by_email.get(email.strip().casefold()) if email else None

    def user_for_username(self, username: str) -> int | None:
        return self.by_username.get(username.casefold())


def build_directory(users: Iterable[Mapping[str, Any]]) -> UserDirectory:
    """The live users of Bullhorn's CorporateUser rows, by folded e-mail and by folded username."""
    by_email: dict[str, int] = {}
    by_username: dict[str, int] = {}
    for user in sorted(users, key=lambda user: _id(user) or 0):
        user_id = _id(user)
        if user_id is None or user.get("isDeleted") is True or user.get("enabled") is False:
            continue
        if isinstance(user.get("email"), str) and user["email"].strip():
            by_email.setdefault(user["email"].strip().casefold(), user_id)
        if isinstance(user.get("username"), str) and user["username"]:
            by_username.setdefault(user["username"].casefold(), user_id)
    return UserDirectory(by_email, by_username)


def _id(user: Mapping[str, Any]) -> int | None:
    value = user.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
