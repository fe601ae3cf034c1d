"""The setup doctor's I/O: gather the facts each check of DESIGN §11 needs, then grade them (insight.domain).

Rights are tried only where trying writes nothing lasting: searches, and an event subscription made
and dropped at once. Note rights are judged from callbridge's own last note writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

import anyio.to_thread

from insight.domain.budget import BudgetReport, Purpose
from insight.domain.default_actions import default_action_rows, default_actions_check
from insight.domain.matching import SEARCH_FIELDS
from insight.domain.setup_checks import (
    Attempt,
    Check,
    IndexFacts,
    WebhookFact,
    WriteEvidence,
    budget_check,
    index_check,
    is_our_webhook,
    needed_events,
    note_right_check,
    tried_check,
    webhook_check,
)
from insight.domain.setup_mapping import TagFact, agents_check, tag_checks
from insight.setup.pipeline_check import CHECK_ID as PIPELINE_CHECK_ID
from insight.setup.pipeline_check import TITLE as PIPELINE_TITLE
from insight.setup.pipeline_check import pipeline_check
from insight.store import Store
from insight.store.setup import last_note_writes, webhook_tokens
from insight.upstream.aircall import AircallClient
from insight.upstream.bullhorn.client import BullhornClient
from insight.upstream.bullhorn.users import read_user_directory
from insight.upstream.errors import UpstreamError, UpstreamRejected
from insight.upstream.meter import metered
from shared.settings import Settings

#: subscribed and dropped at once, apart from the phone index's own subscription
PROBE_SUBSCRIPTION_ID = "callbridge-doctor-probe"


def attempt_of(error: UpstreamError) -> Attempt:
    return Attempt(ok=False, reason=error.explanation, refused=isinstance(error, UpstreamRejected))


def not_checked(check_id: str, title: str, error: UpstreamError) -> Check:
    """A check whose facts could not be read: `fail` when refused, `warn` when unanswered."""
    return tried_check(check_id, title, attempt_of(error), ok_detail="")


class Doctor:
    """Runs every check; `index` and `budget` come from the caller (the web app or the CLI)."""

    def __init__(self, *, settings: Settings, bullhorn: BullhornClient, aircall: AircallClient, store: Store,
                 index: Callable[[], Awaitable[IndexFacts]],
                 budget: Callable[[], Awaitable[BudgetReport]] | None = None) -> None:
        self.settings = settings
        self.bullhorn = bullhorn
        self.aircall = aircall
        self.store = store
        self._index = index
        self._budget = budget
        #: exactly what callbridge's webhook subscribes to under these settings
        self.needed_events = needed_events(messages=settings.messages, ai_sections=settings.note_ai)

    async def run(self) -> list[Check]:
        with metered(Purpose.setup):
            return await self._run()

    async def _run(self) -> list[Check]:
        login = await self._try(self.bullhorn.ping)
        checks = [tried_check("bullhorn_login", "Bullhorn login", login, unanswered_is_fail=True,
                              ok_detail=f"callbridge logs in to Bullhorn as {self.settings.bullhorn_username}.")]
        if login.ok:
            checks += await self._rights()
        else:
            checks += [Check(check_id, title, "warn", "Not checked: the Bullhorn login failed.")
                       for check_id, title in _RIGHTS]
        aircall = await self._try(self.aircall.ping)
        checks.append(tried_check("aircall_credentials", "Aircall credentials", aircall,
                                  ok_detail=f"Aircall accepts API id {self.settings.aircall_api_id}."))
        checks.append(await self.webhook_check())
        checks.append(await self._agents())
        checks += await self.tag_checks()
        checks.append(index_check(await self._index()))
        checks.append(budget_check(await self._budget() if self._budget else None))
        return checks

    async def _rights(self) -> list[Check]:
        async def search() -> None:
            for entity in SEARCH_FIELDS:
                await self.bullhorn.search(entity, "id:0", fields="id", count=1)

        async def subscribe() -> None:
            await self.bullhorn.subscribe_events(PROBE_SUBSCRIPTION_ID, ["Candidate"])
            await self.bullhorn.unsubscribe_events(PROBE_SUBSCRIPTION_ID)

        entities = ", ".join(SEARCH_FIELDS)
        writes = await anyio.to_thread.run_sync(lambda: last_note_writes(self.store.engine))
        return [
            tried_check("bullhorn_right_search", "Bullhorn right: search", await self._try(search),
                        ok_detail=f"Bullhorn lets the API user search {entities}."),
            note_right_check("create", writes.get("create")),
            self._edit_right(writes.get("update")),
            tried_check("bullhorn_right_events", "Bullhorn right: event subscriptions", await self._try(subscribe),
                        ok_detail="Bullhorn lets the API user subscribe to record events (the phone index needs it)."),
            await pipeline_check(self.bullhorn, link_job=self.settings.link_job),
        ]

    def _edit_right(self, evidence: WriteEvidence | None) -> Check:
        """Editing notes is needed in update mode only; refused there, write-once mode is the way out."""
        check = note_right_check("update", evidence)
        if self.settings.note_mode == "once":
            return replace(check, status="ok", detail="Not needed: CALLBRIDGE_NOTE_MODE=once writes each note once "
                                                      "and never edits it.")
        if check.status == "fail":
            return replace(check, detail=f"{check.detail} If this API user may only create notes, set "
                                         "CALLBRIDGE_NOTE_MODE=once: each call's note is then written once, after "
                                         "the call has settled, and never edited.")
        return check

    async def webhook_check(self) -> Check:
        try:
            facts = await self.webhook_facts()
        except UpstreamError as error:
            return not_checked("aircall_webhook", "Aircall webhook", error)
        return webhook_check(facts, self.settings.public_url, self.needed_events)

    async def webhook_facts(self) -> list[WebhookFact]:
        accepted = {token.get() for token in self.settings.aircall_webhook_tokens}
        accepted |= set(await anyio.to_thread.run_sync(lambda: webhook_tokens(self.store.engine)))
        facts = []
        for listed in await self.aircall.list_webhooks():
            # old webhooks have a numeric `id`, which Aircall still accepts in place of the UUID
            webhook_id = str(listed.get("webhook_id") or listed.get("id"))
            webhook = listed
            if is_our_webhook(str(listed.get("url") or ""), self.settings.public_url) and "token" not in listed:
                webhook = {**listed, **await self.aircall.get_webhook(webhook_id)}
            token = webhook.get("token")
            facts.append(WebhookFact(
                webhook_id=webhook_id, url=str(webhook.get("url") or ""),
                active=webhook.get("active") is True, events=tuple(str(e) for e in webhook.get("events") or []),
                token_accepted=token in accepted if isinstance(token, str) else None,
            ))
        return facts

    async def _agents(self) -> Check:
        try:
            users = await self.aircall.list_users()
            directory = await read_user_directory(self.bullhorn)
        except UpstreamError as error:
            return not_checked("agents", "Aircall agents ↔ Bullhorn users", error)
        return agents_check(users, directory, fallback_author=self.fallback_author())

    def fallback_author(self) -> str:
        if self.settings.bullhorn_default_user_id is not None:
            return f"the default user (CorporateUser {self.settings.bullhorn_default_user_id})"
        return f"the API user ({self.settings.bullhorn_username})"

    async def tag_facts(self) -> tuple[list[TagFact], list[str]]:
        tags = [TagFact(id=int(tag["id"]), name=str(tag["name"])) for tag in await self.aircall.list_tags()
                if isinstance(tag.get("id"), int) and isinstance(tag.get("name"), str)]
        return tags, await self.bullhorn.comment_actions()

    async def tag_checks(self) -> list[Check]:
        try:
            tags, actions = await self.tag_facts()
        except UpstreamError as error:
            return [not_checked("tags_for_actions", "Aircall tags for Bullhorn actions", error)]
        defaults = default_action_rows(self.settings.default_actions, self.settings.default_action, actions)
        return [*tag_checks(tags, actions), default_actions_check(defaults)]

    @staticmethod
    async def _try(call: Callable[[], Awaitable[object]]) -> Attempt:
        try:
            await call()
        except UpstreamError as error:
            return attempt_of(error)
        return Attempt(ok=True)


_RIGHTS: Sequence[tuple[str, str]] = (
    ("bullhorn_right_search", "Bullhorn right: search"),
    ("bullhorn_right_note_create", "Bullhorn right: create Notes"),
    ("bullhorn_right_note_update", "Bullhorn right: edit Notes"),
    ("bullhorn_right_events", "Bullhorn right: event subscriptions"),
    (PIPELINE_CHECK_ID, PIPELINE_TITLE),
)
