"""Where links into Bullhorn's UI start: `BULLHORN_UI_URL`, else loginInfo's atsUrl for this tenant."""

from __future__ import annotations

from typing import Protocol

from insight.domain.session import BullhornSession


class SessionSource(Protocol):
    async def session(self) -> BullhornSession: ...


class UiBaseUrl:
    """`await ui_base_url()`: for record links on cards and the note link of the ops API."""

    def __init__(self, configured: str | None, auth: SessionSource) -> None:
        self._configured = configured
        self._auth = auth

    async def __call__(self) -> str:
        if self._configured:
            return self._configured
        session = await self._auth.session()
        if not session.ats_url:
            raise RuntimeError("Bullhorn's loginInfo gave no atsUrl: set BULLHORN_UI_URL")
        return session.ats_url
