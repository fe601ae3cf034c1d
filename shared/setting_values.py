"""How each kind of variable is read: one function per kind, `(name, raw value) -> value`, raising
`SettingsError` with a message that names the variable (used by `shared.settings.load_settings`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

import phonenumbers

from shared.note_settings import NoteSettingsError

T = TypeVar("T")
#: HMAC-SHA256 and the token sealing key (HKDF) want a key at least as long as the hash
MIN_SIGNING_KEY_BYTES = 32


class SettingsError(ValueError):
    """A variable is missing or malformed; the message names it."""


def url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def database_url(name: str, value: str) -> str:
    if not (value.startswith("sqlite") or value.startswith("postgresql")):
        raise SettingsError(f"{name} must be a sqlite:// or postgresql:// URL, got {value.split('://')[0]!r}://…")
    return value


def positive_float(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {value!r}") from None
    if number < 0:
        raise SettingsError(f"{name} must not be negative, got {value!r}")
    return number


def positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise SettingsError(f"{name} must be at least 1, got {value!r}")
    return number


def lease_s(name: str, value: str) -> float:
    number = positive_float(name, value)
    if number < 1:
        raise SettingsError(f"{name} must be at least 1 second, got {value!r}")
    return number


def share(name: str, value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        share = float("nan")
    if not 0 < share <= 1:
        raise SettingsError(f"{name} must be a fraction above 0 and at most 1, got {value!r}")
    return share


def timeout_s(name: str, value: str) -> float:
    number = positive_float(name, value)
    if number == 0:
        raise SettingsError(f"{name} must be more than 0 seconds, got {value!r}")
    return number


def signing_key(name: str, value: str) -> str:
    if len(value.encode()) < MIN_SIGNING_KEY_BYTES:
        raise SettingsError(
            f"{name} must be at least {MIN_SIGNING_KEY_BYTES} bytes (got {len(value.encode())}); "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return value


def frame_ancestors(name: str, value: str) -> str:
    if any(mark in value for mark in ";,\r\n"):
        raise SettingsError(f"{name} must be CSP sources separated by spaces, got {value!r}")
    return " ".join(value.split())


def networks(name: str, value: str) -> tuple[str, ...]:
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(f"{name} must be comma-separated networks such as 10.0.0.0/8, got {item!r}") from None
    return tuple(networks)


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or localhost: reachable from this machine only (the demo, the sandbox, test fakes)."""
    name = (host or "").strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname)


def region(name: str, value: str) -> str:
    region = value.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(f"{name} must be an ISO 3166 region code such as US or GB, got {value!r}")
    return region


def boolean(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def log_level(name: str, value: str) -> str:
    level = value.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(f"{name} must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {value!r}")
    return level


def log_format(name: str, value: str) -> str:
    form = value.lower()
    if form not in ("json", "text"):
        raise SettingsError(f"{name} must be json or text, got {value!r}")
    return form


def text(_name: str, value: str) -> str:
    return value


def note_setting(parse: Callable[[str, str], T]) -> Callable[[str, str], T]:
    def cast(name: str, value: str) -> T:
        try:
            return parse(name, value)
        except NoteSettingsError as error:
            raise SettingsError(str(error)) from None

    return cast


class EnvReader:
    """Reads variables by name: a blank value counts as unset; a malformed one raises naming it."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def optional(self, name: str, cast: Callable[[str, str], T]) -> T | None:
        raw = self._environ.get(name, "").strip()
        return cast(name, raw) if raw else None

    def get(self, name: str, cast: Callable[[str, str], T], default: T) -> T:
        value = self.optional(name, cast)
        return default if value is None else value

    def required(self, name: str, cast: Callable[[str, str], T]) -> T:
        value = self.optional(name, cast)
        if value is None:
            raise SettingsError(f"{name} is required but not set")
        return value


