"""Aircall webhook envelopes, parsed leniently: only the real invariants are required.

`{"resource", "event", "timestamp", "token", "data"}` is the envelope of every event; `data` is the
whole resource at the moment the payload was built. Everything else Aircall sends is optional,
unknown fields are kept but never required, and JSON `null` is turned into "absent" here, once, so
no later code has to tell `None` from a missing key. The token is *not* checked here: the web
compares it in constant time before anything is stored, and stores the event without it, so a
stored event parses with no token at all.

    ValueError
     ├── NotJSON          the body is not JSON at all (400)
     └── InvalidPayload   JSON, but an invariant fails; `.field` names it, e.g. "data.id" (422)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KNOWN_CALL_EVENTS: frozenset[str] = frozenset(
    f"call.{name}"
    for name in (
        "created", "ringing_on_agent", "agent_declined", "answered", "hold", "unhold", "transferred",
        "external_transferred", "unsuccessful_transfer", "ivr_option_selected", "hungup", "ended",
        "voicemail_left", "comm_assets_generated", "tagged", "untagged", "commented", "assigned", "archived",
    )
)
#: message events logged as SMS notes (DESIGN §12 "Messages"); their times may be epoch milliseconds
MESSAGE_EVENTS: frozenset[str] = frozenset({"message.received", "message.sent"})
#: Aircall's AI ("conversation intelligence") events callbridge puts in the note, and the section each
#: fills (reference/aircall-next.md §1); their `data.call_id` is the call, `data.id` the insight's own id
AI_EVENTS: Mapping[str, str] = {
    "summary.created": "summary",
    "topics.created": "topics",
    "sentiment.created": "sentiment",
    "action_item.created": "action_items",
    "transcription.created": "transcript",
}
_INTEGER = re.compile(r"-?[0-9]+")
#: Aircall's ids and times are 64-bit; a larger integer fits no database column (and is no real event)
MAX_INT64 = 2**63 - 1
#: 9999-12-31T23:59:59Z: seconds beyond it are no date at all (Python's datetime stops there)
MAX_TIMESTAMP_S = 253_402_300_799
#: the same bound in milliseconds: message payloads write their times either way (reference/aircall-next.md §2)
MAX_TIMESTAMP_MS = MAX_TIMESTAMP_S * 1000
#: `data.user` on these is an agent who was rung or declined, not the one who took the call
NOT_THE_AGENT_EVENTS = frozenset({"call.ringing_on_agent", "call.agent_declined"})


class NotJSON(ValueError):
    """The body could not be decoded as JSON."""


class InvalidPayload(ValueError):
    """The body is JSON but breaks an invariant; `field` is the dotted path of the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}(field={self.field!r}, detail={str(self)!r})"


@dataclass(frozen=True)
class Envelope:
    resource: str
    event: str
    timestamp: int
    #: None for a stored event: the credential is never stored
    token: str | None = field(repr=False)
    #: the Aircall call id for the known call events and the AI events, None for every other event
    call_id: int | None
    #: the resource with every JSON null removed (nested too); never mutate it
    data: Mapping[str, Any] = field(hash=False)


def is_call_event(event: str) -> bool:
    """True for the call events this service acts on (the web answers "ignored" to the rest)."""
    return event in KNOWN_CALL_EVENTS


def load_json(body: bytes | str) -> Any:
    """Decode a webhook body; raises NotJSON. Lets the web read `token` before validating the rest.

    Bytes must be UTF-8 (RFC 8259 §8.1; `json.loads` would also take UTF-16 and UTF-32), so the body
    can be stored as received. `NaN` and `Infinity` are refused: they are not JSON, and a payload
    holding one could not be read back by the worker.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise NotJSON(f"the body is not valid JSON ({exc})") from None
    except RecursionError:
        raise NotJSON("the body is not valid JSON (it is nested too deeply)") from None


def parse_envelope(body: bytes | str | Mapping[str, Any]) -> Envelope:
    """Validate the envelope's invariants and normalise nulls; raises NotJSON or InvalidPayload."""
    raw = load_json(body) if isinstance(body, bytes | str) else body
    if not isinstance(raw, Mapping):
        raise InvalidPayload("body", "must be a JSON object")
    event = raw.get("event")
    if not isinstance(event, str) or not event.strip():
        raise InvalidPayload("event", "must be a non-empty string")
    timestamp = coerce_int(raw.get("timestamp"))
    if timestamp is None or not 0 <= timestamp <= MAX_TIMESTAMP_S:
        raise InvalidPayload("timestamp", "must be a whole number of seconds from 0 to year 9999")
    token = raw.get("token")
    if token is not None and not isinstance(token, str):
        raise InvalidPayload("token", "must be a string")
    data = raw.get("data")
    if not isinstance(data, Mapping):
        raise InvalidPayload("data", "must be a JSON object")
    try:
        normalised: dict[str, Any] = drop_nulls(data)
    except RecursionError:
        raise InvalidPayload("data", "is nested too deeply") from None
    _check_numbers(normalised, "data", max_time=MAX_TIMESTAMP_MS if event in MESSAGE_EVENTS else MAX_TIMESTAMP_S)
    call_id: int | None = None
    # Only the call events we act on must carry a call id: answering 422 to an event family Aircall
    # adds later would count as a failed delivery, and enough of those disable the whole webhook.
    if is_call_event(event):
        call_id = coerce_int(normalised.get("id"))
        if call_id is None or not 0 < call_id <= MAX_INT64:
            raise InvalidPayload("data.id", "must be a positive whole number (the Aircall call id)")
        normalised["id"] = call_id
    elif event in AI_EVENTS:
        # the call of an insight: an integer in some sources, a string in others (reference/aircall-next.md §1)
        call_id = coerce_int(normalised.get("call_id"))
        if call_id is None or not 0 < call_id <= MAX_INT64:
            raise InvalidPayload("data.call_id", "must be a positive whole number or a string of digits "
                                                 "(the Aircall call id)")
        normalised["call_id"] = call_id
    resource = raw.get("resource")
    if not isinstance(resource, str) or not resource:
        # Aircall always sends it, but routing is on `event`; its prefix is the same thing.
        resource = event.partition(".")[0]
    return Envelope(resource=resource, event=event, timestamp=timestamp, token=token, call_id=call_id, data=normalised)


def dedupe_key(envelope: Envelope) -> str:
    """A redelivery is the same event for the same `data.id` with the same `timestamp` (DESIGN §3)."""
    data_id = envelope.data.get("id", "")
    return f"{envelope.event}:{data_id}:{envelope.timestamp}"


def coerce_int(value: object) -> int | None:
    """An integer from an int, an int-valued float or a string of digits; None for anything else.

    Aircall sends plain JSON integers. The leniency is for relays and replays: JavaScript tooling
    re-serialises numbers as `1646391469.0` or quotes 64-bit ids, and the value is still exact.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if _INTEGER.fullmatch(text) else None
    return None


def drop_nulls(value: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _drop(item) for key, item in value.items() if item is not None}


def _drop(value: Any) -> Any:
    if isinstance(value, Mapping):
        return drop_nulls(value)
    if isinstance(value, list):
        return [_drop(item) for item in value if item is not None]
    return value


def _check_numbers(value: Any, path: str, *, max_time: int = MAX_TIMESTAMP_S) -> None:
    """Integers must fit 64 bits and `*_at` times must be dates, so that storing them cannot fail later."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}"
            if str(key).endswith("_at") and isinstance(item, int | float) and not isinstance(item, bool):
                if not 0 <= item <= max_time:
                    raise InvalidPayload(where, "must be a time from 0 to year 9999")
            _check_numbers(item, where, max_time=max_time)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_numbers(item, f"{path}[{index}]", max_time=max_time)
    elif isinstance(value, int) and not isinstance(value, bool) and not -MAX_INT64 - 1 <= value <= MAX_INT64:
        raise InvalidPayload(path, "is a whole number larger than 64 bits")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
