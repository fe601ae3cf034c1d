"""The setup doctor's fixes (DESIGN §11): each idempotent, each answering its check's new state.

A fix first reads what is there and changes only what is not yet right, so running it twice changes
nothing the second time. When Aircall or Bullhorn refuses, nothing is raised: the answer is the
check, whose detail says why the fix did not happen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import anyio.to_thread

from insight.domain.budget import Purpose
from insight.domain.setup_checks import (
    Check,
    Status,
    pick_webhook,
    webhook_in_order,
    webhook_url,
)
from insight.domain.setup_mapping import RENAME_FIX_PREFIX, tag_case_check, tag_checks
from insight.setup.doctor import Doctor
from insight.store.setup import save_webhook_token
from insight.upstream.errors import UpstreamError, UpstreamRejected
from insight.upstream.meter import metered

FIXES = ("register_webhook", "enable_webhook", "create_tags", f"{RENAME_FIX_PREFIX}<tag id>")
WEBHOOK_NAME = "callbridge"
#: Aircall wants a colour for every tag; new action tags share one, so they read as a family
ACTION_TAG_COLOR = "#0033CC"


class UnknownFix(LookupError):
    """No such fix (or no such tag to rename); the message says which ones exist."""


@dataclass(frozen=True)
class FixOutcome:
    check: Check
    #: whether anything was changed upstream or in the store
    changed: bool


_Fix = Callable[[], Awaitable[FixOutcome]]


async def apply_fix(doctor: Doctor, fix: str) -> FixOutcome:
    with metered(Purpose.setup):
        return await _apply(doctor, fix)


async def _apply(doctor: Doctor, fix: str) -> FixOutcome:
    if fix == "register_webhook":
        return await _guarded(doctor, "aircall_webhook", "Aircall webhook", "register the webhook",
                              lambda: _register_webhook(doctor))
    if fix == "enable_webhook":
        return await _guarded(doctor, "aircall_webhook", "Aircall webhook", "update the webhook",
                              lambda: _enable_webhook(doctor))
    if fix == "create_tags":
        return await _guarded(doctor, "tags_for_actions", "Aircall tags for Bullhorn actions", "create the tags",
                              lambda: _create_tags(doctor))
    if fix.startswith(RENAME_FIX_PREFIX) and fix[len(RENAME_FIX_PREFIX):].isdigit():
        tag_id = int(fix[len(RENAME_FIX_PREFIX):])
        return await _guarded(doctor, f"tag_case_{tag_id}", f"Aircall tag {tag_id}", "rename the tag",
                              lambda: _rename_tag(doctor, tag_id))
    raise UnknownFix(f"there is no fix {fix!r}; the fixes are {', '.join(FIXES)}")


async def _guarded(doctor: Doctor, check_id: str, title: str, what: str, run: _Fix) -> FixOutcome:
    try:
        return await run()
    except UpstreamError as error:
        status: Status = "fail" if isinstance(error, UpstreamRejected) else "warn"
        return FixOutcome(Check(check_id, title, status, f"callbridge could not {what}: {error.explanation}"), False)


async def _register_webhook(doctor: Doctor) -> FixOutcome:
    public_url = doctor.settings.public_url
    if pick_webhook(await doctor.webhook_facts(), public_url, doctor.needed_events) is None:
        created = await doctor.aircall.create_webhook(webhook_url(public_url), doctor.needed_events,
                                                      custom_name=WEBHOOK_NAME)
        await _keep_token(doctor, created)
        return FixOutcome(await doctor.webhook_check(), True)
    return FixOutcome(await doctor.webhook_check(), False)


async def _enable_webhook(doctor: Doctor) -> FixOutcome:
    webhook = pick_webhook(await doctor.webhook_facts(), doctor.settings.public_url, doctor.needed_events)
    if webhook is None or webhook_in_order(webhook, doctor.needed_events):
        return FixOutcome(await doctor.webhook_check(), False)
    updated = await doctor.aircall.activate_webhook(webhook.webhook_id, doctor.needed_events)
    if not isinstance(updated.get("token"), str):
        updated = await doctor.aircall.get_webhook(webhook.webhook_id)
    await _keep_token(doctor, {**updated, "webhook_id": webhook.webhook_id, "url": webhook.url})
    return FixOutcome(await doctor.webhook_check(), True)


async def _keep_token(doctor: Doctor, webhook: dict[str, object]) -> None:
    token, webhook_id = webhook.get("token"), webhook.get("webhook_id")
    if not isinstance(token, str) or not token or not webhook_id:
        raise UpstreamRejected("Aircall answered without the webhook's token, so callbridge cannot accept its "
                               "deliveries; read it with GET /v1/webhooks/<id> and add it to AIRCALL_WEBHOOK_TOKEN")
    engine = doctor.store.engine
    await anyio.to_thread.run_sync(lambda: save_webhook_token(
        engine, webhook_id=str(webhook_id), url=str(webhook.get("url") or ""), token=token))


async def _create_tags(doctor: Doctor) -> FixOutcome:
    tags, actions = await doctor.tag_facts()
    names = {tag.name for tag in tags}
    missing = [action for action in actions if action not in names]
    for created, action in enumerate(missing):
        try:
            await doctor.aircall.create_tag(action, color=ACTION_TAG_COLOR)
        except UpstreamError as error:
            if not created:
                raise
            # some were made: say so, since running the fix again creates only the rest
            check = Check("tags_for_actions", "Aircall tags for Bullhorn actions", "warn",
                          f"Created {created} of {len(missing)} tags, then callbridge could not create the tags: "
                          f"{error.explanation}. Run the fix again to create the rest.", "create_tags")
            return FixOutcome(check, True)
    tags, actions = await doctor.tag_facts()
    return FixOutcome(tag_checks(tags, actions)[0], bool(missing))


async def _rename_tag(doctor: Doctor, tag_id: int) -> FixOutcome:
    tags, actions = await doctor.tag_facts()
    tag = next((tag for tag in tags if tag.id == tag_id), None)
    if tag is None:
        raise UnknownFix(f"Aircall has no tag {tag_id} to rename")
    check = tag_case_check(tag, tags, actions)
    if check.fix is None:
        return FixOutcome(check, False)
    new_name = next(action for action in actions if action.casefold() == tag.name.casefold())
    await doctor.aircall.rename_tag(tag_id, new_name)
    renamed = replace(tag, name=new_name)
    return FixOutcome(tag_case_check(renamed, [renamed if t.id == tag_id else t for t in tags], actions), True)
