"""The setup doctor's grading (DESIGN §11): facts in, one `Check` out, each in plain words.

Grading: credentials Bullhorn or Aircall refuse, a right Bullhorn refuses when tried, and a missing
or inactive webhook (or one that would leave events or deliveries out) are `fail`; with those in
order nothing is `fail`. What cannot be known without trying a write, what is still being built, and
what is merely untidy is `warn`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from insight.domain.aircall_events import AI_EVENTS, KNOWN_CALL_EVENTS, MESSAGE_EVENTS
from insight.domain.budget import BudgetReport
from shared.note_settings import DEFAULT_NOTE_AI

Status = Literal["ok", "warn", "fail"]


def needed_events(*, messages: bool, ai_sections: Iterable[str]) -> tuple[str, ...]:
    """What callbridge's webhook subscribes to, exactly: every call event, the message events when
    messages are logged (CALLBRIDGE_MESSAGES), and the AI events of the sections the note shows
    (CALLBRIDGE_NOTE_AI); anything more is delivered only to be ignored."""
    sections = set(ai_sections)
    ai = {event for event, section in AI_EVENTS.items() if section in sections}
    return tuple(sorted(KNOWN_CALL_EVENTS | (MESSAGE_EVENTS if messages else frozenset()) | ai))


#: what the webhook subscribes to under the default settings (messages on, the default AI sections)
NEEDED_EVENTS: tuple[str, ...] = needed_events(messages=True, ai_sections=DEFAULT_NOTE_AI)
WEBHOOK_PATH = "/webhooks/aircall"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    status: Status
    detail: str
    fix: str | None = None
    #: what the fix will do, said before it runs
    fix_description: str | None = None
    #: rows behind the detail (agents, tags), for the console's tables
    items: tuple[dict[str, Any], ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "title": self.title, "status": self.status, "detail": self.detail,
                                "fix": self.fix, "fix_description": self.fix_description}
        if self.items:
            body["items"] = [dict(item) for item in self.items]
        return body


def any_fail(checks: Iterable[Check]) -> bool:
    return any(check.status == "fail" for check in checks)


@dataclass(frozen=True)
class Attempt:
    """What happened when callbridge tried something upstream."""

    ok: bool
    #: plain words, when not ok
    reason: str | None = None
    #: the upstream said no (401/403); otherwise it could not be asked (down, timeout, rate limited)
    refused: bool = False


def tried_check(check_id: str, title: str, attempt: Attempt, *, ok_detail: str,
                unanswered_is_fail: bool = False) -> Check:
    """A check settled by trying: refused is `fail`, unanswered is `warn` (or `fail` when nothing works
    without it, like the login)."""
    if attempt.ok:
        return Check(check_id, title, "ok", ok_detail)
    if attempt.refused or unanswered_is_fail:
        return Check(check_id, title, "fail", attempt.reason or "refused")
    return Check(check_id, title, "warn", f"Could not be checked just now: {attempt.reason}")


@dataclass(frozen=True)
class WriteEvidence:
    """callbridge's last note write of one kind (create or update), from its attempt log."""

    status_code: int | None
    at: datetime
    explanation: str | None


def note_right_check(kind: Literal["create", "update"], evidence: WriteEvidence | None) -> Check:
    """A right that cannot be verified without writing a note, so it is judged by the last real write."""
    verb = "create" if kind == "create" else "edit"
    check_id, title = f"bullhorn_right_note_{kind}", f"Bullhorn right: {verb} Notes"
    if evidence is None:
        return Check(check_id, title, "warn",
                     f"Not verified: only writing a note would tell, and callbridge has not tried to {verb} one yet. "
                     f"The first call's note will show it (ask a Bullhorn admin to grant {verb} on Notes if unsure).")
    when = evidence.at.strftime("%Y-%m-%d %H:%M UTC")
    if evidence.status_code == 403:
        return Check(check_id, title, "fail",
                     f"Bullhorn refused the last note {kind} ({when}): {evidence.explanation or 'forbidden'}")
    if evidence.status_code is not None and 200 <= evidence.status_code < 300:
        return Check(check_id, title, "ok", f"Bullhorn accepted callbridge's last note {kind} ({when}).")
    return Check(check_id, title, "warn",
                 f"Not verified: the last note {kind} ({when}) ended without Bullhorn deciding on the right "
                 f"({evidence.explanation or f'HTTP {evidence.status_code}'}).")


@dataclass(frozen=True)
class WebhookFact:
    webhook_id: str
    url: str
    active: bool
    events: tuple[str, ...]
    #: whether callbridge accepts the token Aircall puts in this webhook's deliveries (None: unknown)
    token_accepted: bool | None


def webhook_url(public_url: str) -> str:
    return public_url.rstrip("/") + WEBHOOK_PATH


def is_our_webhook(url: str, public_url: str) -> bool:
    return url.rstrip("/").casefold() == webhook_url(public_url).casefold()


def pick_webhook(webhooks: Sequence[WebhookFact], public_url: str,
                 needed: Sequence[str] = NEEDED_EVENTS) -> WebhookFact | None:
    """Of the webhooks sending to callbridge, the most useful: active first, then one whose token it accepts."""
    ours = [webhook for webhook in webhooks if is_our_webhook(webhook.url, public_url)]
    return max(ours, key=lambda w: (w.active, w.token_accepted is True, set(needed) <= set(w.events)),
               default=None)


def webhook_in_order(webhook: WebhookFact, needed: Sequence[str] = NEEDED_EVENTS) -> bool:
    return webhook.active and webhook.token_accepted is not False and set(webhook.events) == set(needed)


def _events_text(events: Sequence[str]) -> str:
    return ", ".join(events)


def register_description(url: str, needed: Sequence[str] = NEEDED_EVENTS) -> str:
    return (f"Create an Aircall webhook for {url} subscribed to exactly the {len(needed)} "
            f"events callbridge uses ({_events_text(needed)}); callbridge keeps the token Aircall returns and "
            "accepts it from then on.")


def enable_description(webhook_id: str, needed: Sequence[str] = NEEDED_EVENTS) -> str:
    return (f"Update Aircall webhook {webhook_id}: make it active and subscribed to exactly the "
            f"{len(needed)} events callbridge uses, and accept the token it signs "
            "deliveries with.")


def webhook_check(webhooks: Sequence[WebhookFact], public_url: str,
                  needed: Sequence[str] = NEEDED_EVENTS) -> Check:
    """The one webhook that should send Aircall's call events to `public_url` + /webhooks/aircall."""
    url = webhook_url(public_url)
    title = "Aircall webhook"
    ours = [webhook for webhook in webhooks if is_our_webhook(webhook.url, public_url)]
    webhook = pick_webhook(webhooks, public_url, needed)
    if webhook is None:
        return Check("aircall_webhook", title, "fail",
                     f"No Aircall webhook sends to {url}: Aircall would deliver no call to callbridge.",
                     "register_webhook", register_description(url, needed))
    fix, fix_description = "enable_webhook", enable_description(webhook.webhook_id, needed)
    missing = [event for event in needed if event not in webhook.events]
    extra = sorted(set(webhook.events) - set(needed))
    if not webhook.active:
        return Check("aircall_webhook", title, "fail",
                     f"Aircall deactivated webhook {webhook.webhook_id} for {url} (it does so after repeated failed "
                     "deliveries): no call reaches callbridge until it is active again.", fix, fix_description)
    if webhook.token_accepted is False:
        return Check("aircall_webhook", title, "fail",
                     f"Webhook {webhook.webhook_id} signs its deliveries with a token callbridge does not accept: "
                     "every delivery is refused with 401.", fix, fix_description)
    if missing:
        return Check("aircall_webhook", title, "fail",
                     f"Webhook {webhook.webhook_id} is not subscribed to {_events_text(missing)}: callbridge would "
                     "miss those moments of each call.", fix, fix_description)
    notes = []
    if extra:
        notes.append(f"it also sends {len(extra)} event(s) callbridge ignores ({_events_text(extra[:5])}"
                     f"{', …' if len(extra) > 5 else ''})")
    if len(ours) > 1:
        notes.append(f"{len(ours)} webhooks send to this URL, so every event arrives {len(ours)} times")
    if notes:
        return Check("aircall_webhook", title, "warn",
                     f"Webhook {webhook.webhook_id} is active and sends every call event callbridge uses, but "
                     f"{'; '.join(notes)}.", fix if extra else None, fix_description if extra else None)
    return Check("aircall_webhook", title, "ok",
                 f"Webhook {webhook.webhook_id} is active and sends exactly the {len(needed)} events callbridge "
                 f"uses to {url}.")


@dataclass(frozen=True)
class IndexFacts:
    ready: bool
    records_indexed: int
    records_total: int | None
    eta_s: float | None
    lag_s: float | None


def index_check(facts: IndexFacts) -> Check:
    title = "Phone index"
    if facts.ready:
        return Check("phone_index", title, "ok",
                     f"Ready: {facts.records_indexed} records indexed; rings are matched without searching Bullhorn.")
    if facts.records_total:
        eta = f", about {facts.eta_s / 60:.0f} min left" if facts.eta_s is not None else ""
        progress = f"{facts.records_indexed} of {facts.records_total} records{eta}"
    else:
        progress = f"{facts.records_indexed} records so far"
    if facts.lag_s is not None and facts.records_total and facts.records_indexed >= facts.records_total:
        return Check("phone_index", title, "warn",
                     f"Built, but the worker last read Bullhorn's changes {facts.lag_s / 60:.0f} min ago: is the "
                     "worker running? Until then rings search Bullhorn live.")
    return Check("phone_index", title, "warn",
                 f"Still building ({progress}); until it is ready rings search Bullhorn live, which is slower.")


def budget_check(report: BudgetReport | None) -> Check:
    """The Bullhorn API budget: this month's projected requests against BULLHORN_MONTHLY_API_BUDGET."""
    title = "Bullhorn API budget"
    if report is None:
        return Check("api_budget", title, "ok", "Not measured yet.")
    figures = (f"{report.total:,} Bullhorn requests so far in {report.month}, {report.projected:,} projected "
               f"for the month of {report.budget:,} allowed")
    if report.over_budget:
        return Check("api_budget", title, "warn", f"Projected overrun: {figures}. {report.warning}")
    return Check("api_budget", title, "ok", f"Within budget: {figures}.")
