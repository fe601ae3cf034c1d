"""The note settings of DESIGN §12: write mode, AI sections, and the default action per call type.

Each parser takes the variable's name and raw value and raises `SettingsError` naming the variable,
like every cast in `shared.settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

NoteMode = Literal["update", "once"]
NOTE_MODES: tuple[NoteMode, ...] = ("update", "once")
#: the note sections Aircall's AI can fill, in the order the note shows them
AI_SECTIONS: tuple[str, ...] = ("summary", "topics", "sentiment", "action_items", "transcript")
DEFAULT_NOTE_AI: tuple[str, ...] = ("summary", "topics", "sentiment", "action_items")
#: the call types a default action can be given for (`sms` is the messages' note, DESIGN §12)
ACTION_TYPES: tuple[str, ...] = ("inbound", "outbound", "missed", "voicemail", "sms")
#: CALLBRIDGE_NOTE_SETTLE_S when unset: update mode writes at once (and updates), once mode waits
SETTLE_S_UPDATE = 0.0
SETTLE_S_ONCE = 120.0
DEFAULT_AI_WAIT_S = 300.0


class NoteSettingsError(ValueError):
    """A note setting is malformed; the message names the variable."""


def parse_note_mode(name: str, value: str) -> NoteMode:
    mode = value.strip().lower()
    if mode == "update":
        return "update"
    if mode == "once":
        return "once"
    raise NoteSettingsError(f"{name} must be update or once, got {value!r}")


def parse_note_ai(name: str, value: str) -> tuple[str, ...]:
    """`summary,topics,…` (any order, `none` for no AI section at all) → the sections in note order."""
    wanted = {part.strip().lower() for part in value.split(",") if part.strip()}
    if wanted == {"none"}:
        return ()
    unknown = sorted(wanted - set(AI_SECTIONS))
    if unknown:
        raise NoteSettingsError(f"{name} must list some of {', '.join(AI_SECTIONS)} (or none), "
                                f"got {unknown[0]!r}")
    return tuple(section for section in AI_SECTIONS if section in wanted)


def parse_default_actions(name: str, value: str) -> tuple[tuple[str, str], ...]:
    """`inbound=Inbound Call, missed = Missed Call` → (("inbound", "Inbound Call"), ("missed", "Missed Call"))."""
    pairs: dict[str, str] = {}
    for raw in value.split(","):
        if not raw.strip():
            continue
        kind, equals, action = raw.partition("=")
        kind, action = kind.strip().lower(), action.strip()
        if not equals or not kind or not action or "=" in action:
            raise NoteSettingsError(f"{name} must be comma-separated type=action pairs "
                                    f"such as inbound=Inbound Call, got {raw.strip()!r}")
        if kind not in ACTION_TYPES:
            raise NoteSettingsError(f"{name} names an unknown call type {kind!r} "
                                    f"(one of {', '.join(ACTION_TYPES)})")
        if kind in pairs:
            raise NoteSettingsError(f"{name} gives the call type {kind!r} twice")
        pairs[kind] = action
    return tuple(pairs.items())


def default_action_for(call_type: str, defaults: Mapping[str, str] | tuple[tuple[str, str], ...],
                       fallback: str | None) -> str | None:
    """The action a call of `call_type` gets when the agent pushed no tag."""
    table = dict(defaults)
    return table.get(call_type, fallback)
