"""The setup doctor's mappings: Aircall agents -> Bullhorn users, Aircall tags <-> Bullhorn note actions.

Both are `warn` at worst: an unmapped agent's notes fall back to the default author, and a tag that
is not an action is still written verbatim (DESIGN §4). Tags are classified by `classify_tag`, the
rule the tags page uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from insight.domain.actions import classify_tag
from insight.domain.authors import UserDirectory
from insight.domain.setup_checks import Check

RENAME_FIX_PREFIX = "rename_tag:"


@dataclass(frozen=True)
class TagFact:
    id: int
    name: str


def agents_check(users: Sequence[Mapping[str, Any]], directory: UserDirectory, *, fallback_author: str) -> Check:
    """Each Aircall user's e-mail -> the CorporateUser it maps to, or who authors their notes instead."""
    title = "Aircall agents ↔ Bullhorn users"
    items: list[dict[str, Any]] = []
    for user in users:
        email = user.get("email") if isinstance(user.get("email"), str) else None
        bullhorn_id = directory.user_for_email(email)
        items.append({
            "aircall_user_id": user.get("id"), "name": user.get("name"), "email": email,
            "bullhorn_user_id": bullhorn_id, "status": "ok" if bullhorn_id is not None else "warn",
            "maps_to": f"CorporateUser {bullhorn_id}" if bullhorn_id is not None
            else f"unmapped: notes will be authored by {fallback_author}",
        })
    unmapped = [item for item in items if item["bullhorn_user_id"] is None]
    if not items:
        return Check("agents", title, "warn", "Aircall lists no users: no call can be attributed to an agent.")
    if not unmapped:
        return Check("agents", title, "ok",
                     f"All {len(items)} Aircall users map by e-mail to an active Bullhorn user.", items=tuple(items))
    names = ", ".join(f"{item['name']} ({item['email'] or 'no e-mail'})" for item in unmapped)
    return Check("agents", title, "warn",
                 f"{len(unmapped)} of {len(items)} Aircall users have no active Bullhorn user with their e-mail: "
                 f"{names}. Unmapped: notes will be authored by {fallback_author}. Give them the same e-mail in "
                 "both systems to fix it.", items=tuple(items))


def tag_checks(tags: Sequence[TagFact], actions: Sequence[str]) -> list[Check]:
    """Actions without an exactly-spelled tag (fix `create_tags`), tags that are not actions, and one
    rename fix per tag that differs from an action only by case."""
    names = {tag.name for tag in tags}
    missing = [action for action in actions if action not in names]
    action_items = tuple({"action": action, "tag": action if action in names else None,
                          "status": "ok" if action in names else "warn",
                          "fix": None if action in names else "create_tags"} for action in actions)
    if missing:
        listed = ", ".join(f"'{action}'" for action in missing)
        checks = [Check("tags_for_actions", "Aircall tags for Bullhorn actions", "warn",
                        f"{len(missing)} of {len(actions)} Bullhorn note actions have no Aircall tag spelled exactly "
                        f"like them ({listed}): agents cannot pick those actions.", "create_tags",
                        f"Create {len(missing)} Aircall tag(s) spelled exactly like Bullhorn's actions: {listed}.",
                        items=action_items)]
    else:
        checks = [Check("tags_for_actions", "Aircall tags for Bullhorn actions", "ok",
                        f"All {len(actions)} Bullhorn note actions have an Aircall tag of the same spelling.",
                        items=action_items)]
    tag_items: list[dict[str, Any]] = []
    renames: list[Check] = []
    for tag in tags:
        verdict = classify_tag(tag.name, actions)
        rename = tag_case_check(tag, tags, actions)
        tag_items.append({"tag_id": tag.id, "tag": tag.name, "problem": verdict.problem,
                          "suggestion": verdict.suggestion, "fix": rename.fix})
        if rename.fix:
            renames.append(rename)
    misfits = [item for item in tag_items if item["problem"]]
    if misfits:
        listed = "; ".join(_misfit_text(item) for item in misfits)
        checks.append(Check("tags_not_actions", "Aircall tags that are not Bullhorn actions", "warn",
                            f"{len(misfits)} Aircall tag(s) are not Bullhorn actions and are written to notes as "
                            f"typed: {listed}.", items=tuple(tag_items)))
    else:
        checks.append(Check("tags_not_actions", "Aircall tags that are not Bullhorn actions", "ok",
                            "Every Aircall tag is a Bullhorn action.", items=tuple(tag_items)))
    return [*checks, *renames]


def tag_case_check(tag: TagFact, tags: Sequence[TagFact], actions: Sequence[str]) -> Check:
    """A rename fix for a tag that differs from an action only by case, unless a tag of the action's exact
    spelling exists already (then renaming would make two tags of one name); otherwise `ok`."""
    verdict = classify_tag(tag.name, actions)
    check_id, title = f"tag_case_{tag.id}", f"Aircall tag '{tag.name}'"
    if verdict.problem != "case_mismatch" or verdict.suggestion is None:
        return Check(check_id, title, "ok", f"Aircall tag {tag.id} is spelled '{tag.name}'; no rename is due.")
    if any(other.name == verdict.suggestion for other in tags):
        return Check(check_id, title, "ok",
                     f"'{tag.name}' is a case variant of the tag '{verdict.suggestion}', which exists already: "
                     "renaming would make two tags of one name (delete it in Aircall's Dashboard instead).")
    fix = f"{RENAME_FIX_PREFIX}{tag.id}"
    return Check(check_id, title, "warn",
                 f"'{tag.name}' differs from the Bullhorn action '{verdict.suggestion}' only by case; notes get "
                 f"'{tag.name}', which Bullhorn does not list.", fix,
                 f"Rename Aircall tag {tag.id} from '{tag.name}' to '{verdict.suggestion}'. Agents will see the new "
                 "name from then on.")


def _misfit_text(item: Mapping[str, Any]) -> str:
    name, problem, suggestion = item["tag"], item["problem"], item["suggestion"]
    if problem == "too_long":
        return f"'{name}' (longer than 30 characters: never an action)"
    if problem == "case_mismatch":
        return f"'{name}' (a case variant of '{suggestion}'; delete it in Aircall's Dashboard)" if not item["fix"] \
            else f"'{name}' (a case variant of '{suggestion}')"
    return f"'{name}' (did you mean '{suggestion}'?)" if suggestion else f"'{name}'"
