"""The upstream behaviours no public source settles (DESIGN §10), each playable both ways.

Every reading is a field of one fake's config, named here once, so the command line (`python -m
sandbox serve --bullhorn-id-range numeric`), `/_sandbox/config` and tests
(`BullhornSandboxConfig(id_range="numeric")`) steer the same knob. The default is the **harsher**
reading for a client, as everywhere else in the fakes: a client that works against the defaults has
not been lucky.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Literal

ResetUnit = Literal["seconds", "milliseconds"]
MultiGet = Literal["all", "count_20"]
EventRequestId = Literal["with_events", "every_poll"]
IdRange = Literal["numeric", "text"]
LoginHost = Literal["rest_url", "login_info"]
SessionTtl = Literal["default", "honoured"]
SoftDelete = Literal["updated", "deleted"]


@dataclass(frozen=True)
class Reading:
    fake: Literal["aircall", "bullhorn"]
    #: the config field; the command-line flag is `--<fake>-<field>` with `-` for `_`
    field: str
    #: (reading 1, reading 2) as DESIGN §10 numbers them
    choices: tuple[str, str]
    default: str
    help: str

    @property
    def dest(self) -> str:
        return f"{self.fake}_{self.field}"

    @property
    def flag(self) -> str:
        return "--" + self.dest.replace("_", "-")


READINGS: tuple[Reading, ...] = (
    Reading("aircall", "reset_unit", ("seconds", "milliseconds"), "milliseconds",
            "X-AircallApi-Reset in epoch seconds or milliseconds (ms breaks a client that trusts seconds)"),
    Reading("bullhorn", "multi_get", ("all", "count_20"), "count_20",
            "GET entity/{E}/{ids} answers every id asked, or at most 20 unless `count` is sent"),
    Reading("bullhorn", "event_request_id", ("with_events", "every_poll"), "every_poll",
            "an event subscription's requestId advances only with events, or on every poll (gaps)"),
    Reading("bullhorn", "id_range", ("numeric", "text"), "text",
            "Lucene ranges on `id` compare numbers, or text (\"10000\" < \"1001\")"),
    Reading("bullhorn", "login_host", ("rest_url", "login_info"), "login_info",
            "/login is answered on the host of the restUrl a login returned too, or only on loginInfo's"),
    Reading("bullhorn", "session_ttl", ("default", "honoured"), "default",
            "/login's `ttl` is ignored (the default lifetime), or honoured up to 2,880 minutes"),
    Reading("bullhorn", "soft_delete", ("updated", "deleted"), "updated",
            "a soft-deleted person is an UPDATED event naming isDeleted, or a DELETED event"),
)


def reading(field: str) -> Reading:
    return next(item for item in READINGS if item.field == field)


def add_reading_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("readings (DESIGN §10; default: the harsher one)")
    for item in READINGS:
        group.add_argument(item.flag, dest=item.dest, choices=item.choices, default=item.default,
                           help=f"{item.help} (default: {item.default})")


def readings_from_args(args: argparse.Namespace, fake: Literal["aircall", "bullhorn"]) -> dict[str, Any]:
    """The config keyword arguments the command line chose for one fake."""
    return {item.field: getattr(args, item.dest) for item in READINGS if item.fake == fake}


def readings_of(config: object, fake: Literal["aircall", "bullhorn"]) -> dict[str, str]:
    """The readings a running fake plays, for its index page."""
    return {item.field: getattr(config, item.field) for item in READINGS if item.fake == fake}


def is_reading_value(field: str, value: Any) -> bool:
    return value in reading(field).choices
