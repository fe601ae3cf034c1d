"""What every page shares: status badges in the §6 vocabulary, time display, the error banner."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Literal

import streamlit as st

from console.client import ServiceError, ServiceUnauthorized, ServiceUnreachable
from shared.states import MEANINGS, SyncState

log = logging.getLogger("callbridge.console")

BadgeColor = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray"]

#: one colour per sync state, the same in the table (as a dot) and in the detail view (as a badge)
STATUS_COLORS: dict[str, BadgeColor] = {
    SyncState.synced: "green",
    SyncState.pending: "gray",
    SyncState.syncing: "blue",
    SyncState.retrying: "orange",
    SyncState.failed: "red",
    SyncState.unmatched: "yellow",
    SyncState.dead: "violet",
}
_DOTS = {"green": "🟢", "gray": "⚪", "blue": "🔵", "orange": "🟠", "red": "🔴", "yellow": "🟡", "violet": "🟣"}

#: what each state means, for operators who do not know the vocabulary
STATUS_MEANINGS: dict[str, str] = {str(state): meaning for state, meaning in MEANINGS.items()}


def status_label(status: str | None) -> str:
    """A coloured dot and the state, for table cells."""
    if not status:
        return "—"
    return f"{_DOTS[STATUS_COLORS.get(status, 'gray')]} {status}"


#: what turns text into markup: emphasis, code, links and images (`[`, `!`), Streamlit's `:color[…]`,
#: headings, HTML, LaTeX (`$`), strike-through and tables; sentences keep their `.`, `:` and `(…)`
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>#!|~$])")


def md(value: object) -> str:
    """Outside text (Aircall, Bullhorn, the service) shown literally in Markdown: no links, images or headings."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", " ".join(str(value).split()))


def code(value: object) -> str:
    """Outside text as an inline code span (literal inside); its own backticks cannot close it."""
    text = " ".join(str(value).split())
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def status_badge(status: str) -> None:
    st.badge(status, color=STATUS_COLORS.get(status, "gray"))


def when(value: str | None) -> str:
    """'2026-11-25 10:00:00 UTC' from the API's ISO time, or a dash."""
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return value


def show_service_error(error: ServiceError) -> None:
    if isinstance(error, ServiceUnreachable):
        st.error(f"**The service is unreachable.** {md(error)}", icon="🔌")
    elif isinstance(error, ServiceUnauthorized):
        st.error(f"**The service refused the console.** {md(error)}", icon="🔒")
    else:
        st.error(f"**The service could not answer.** {md(error)}", icon="⚠️")


def guarded(render: Callable[[], None]) -> None:
    """Run a page; a service failure becomes a banner, anything else a banner and a log line."""
    try:
        render()
    except ServiceError as error:
        show_service_error(error)
    except Exception:  # the console must never show an operator a traceback
        log.exception("console page failed")
        st.error("**The console hit an unexpected problem** showing this page; the details are in its log.")
