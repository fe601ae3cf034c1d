"""Process logging: one JSON object per line (or plain text in the demo), secrets and numbers masked.

`configure_logging(level, json=...)` installs one handler on the root logger and routes uvicorn's
loggers through it. Its `Redactor` filter rewrites every record before any formatter sees it: the
message (arguments merged in), every extra and the traceback lose

- the values of the service's secrets (`secret_values(settings)`), credentials in URLs, query
  strings and form bodies (`access_token=`, `refresh_token=`, `password=`, `client_secret=`,
  `code=`, `sig=`), `BhRestToken` and `Authorization` values;
- phone numbers: international ones (`+`, `%2B`, `00`, `011`) keep their country code and last four
  digits like `insight.domain.phones.mask` (`+44******0958`), grouped national ones (`(415) 555-0123`) and
  bare runs of 10 to 15 digits keep the last four.

Integers are left alone, so `extra={"call_id": …}` survives even when a message's text is masked.
"""

from __future__ import annotations

import dataclasses
import json as jsonlib
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import phonenumbers
from phonenumbers import NumberParseException

from shared.settings import Secret, Settings
from shared.timefmt import iso_utc

__all__ = [
    "JsonFormatter",
    "Redactor",
    "TextFormatter",
    "configure_from_settings",
    "configure_logging",
    "log_context",
    "redact",
    "secret_values",
]

HIDDEN = "**********"
#: a secret shorter than this would mask ordinary words everywhere; none of ours is that short
MIN_SECRET_CHARS = 4
#: loggers of libraries whose INFO lines repeat every upstream request (httpx logs whole URLs)
_CHATTY = ("httpx", "httpcore", "hpack", "multipart")
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
#: attributes every LogRecord has (and uvicorn's ANSI twin of the message); the rest came in through `extra=`
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}

_QUERY_SECRET = re.compile(
    r"(?<![\w-])(access_token|refresh_token|password|client_secret|code|sig|BhRestToken)=([^&\s\"'<>]*)", re.I
)
_JSON_SECRET = re.compile(
    r"""(["']?(?:access_token|refresh_token|password|client_secret|BhRestToken|token)["']?\s*:\s*["'])([^"']*)""",
    re.I,
)
_HEADER_SECRET = re.compile(
    r"""((?:authorization|BhRestToken)["']?\s*[:=,]\s*["']?)(?:(bearer|basic)\s+)?[^\s"',;}\]]+""", re.I
)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s/]+@", re.I)
_INTERNATIONAL = re.compile(
    r"(?:\+|%2B|(?<![\w.:])(?:00|011)(?=[\s.\-/()]?[1-9]))[\s.\-/()]*\d(?:[\s.\-/()]{0,3}\d){6,16}", re.I
)
_GROUPED = re.compile(r"(?<![\w.:/-])\(?\d{2,5}\)?(?:[\s.\-/]{1,2}\(?\d{2,}\)?){1,5}(?![\w:])")
_BARE = re.compile(r"(?<![\w.])\d{10,15}(?![\w.])")
_BOUND: ContextVar[Mapping[str, Any] | None] = ContextVar("callbridge_log_context", default=None)
_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{1,3}(?:\.\d{1,3}){3}")


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add `fields` (e.g. `call_id`) to every record logged inside, in this task and those it starts."""
    token = _BOUND.set({**(_BOUND.get() or {}), **fields})
    try:
        yield
    finally:
        _BOUND.reset(token)


def secret_values(settings: Settings) -> list[str]:
    """Every secret setting's value (API key, signing key, webhook tokens, upstream credentials)."""
    values: list[str] = []
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Secret) and item.get():
                values.append(item.get())
    return values


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with secrets and phone numbers masked (the rules of this module's docstring)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_CHARS and secret in text:
            text = text.replace(secret, HIDDEN)
    text = _URL_PASSWORD.sub(lambda found: found.group(1) + HIDDEN + "@", text)
    text = _QUERY_SECRET.sub(lambda found: f"{found.group(1)}={HIDDEN}", text)
    text = _JSON_SECRET.sub(lambda found: found.group(1) + HIDDEN, text)
    text = _HEADER_SECRET.sub(lambda found: found.group(1) + (found.group(2) + " " if found.group(2) else "") + HIDDEN,
                              text)
    if not any(character.isdigit() for character in text):
        return text
    text = _INTERNATIONAL.sub(_mask_international, text)
    text = _GROUPED.sub(_mask_grouped, text)
    return _BARE.sub(lambda found: _keep_tail(found.group(0)), text)


def _mask_international(found: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", found.group(0).upper().replace("%2B", "+"))
    for prefix in ("011", "00"):
        if not found.group(0).startswith(("+", "%")) and digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    return mask_phone("+" + digits)


def _mask_grouped(found: re.Match[str]) -> str:
    text = found.group(0)
    digits = sum(character.isdigit() for character in text)
    if digits < 9 or digits > 15 or _DATE_LIKE.search(text):
        return text
    return _keep_tail(text)


def _keep_tail(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "*" * (len(digits) - 4) + digits[-4:]


class Redactor(logging.Filter):
    """Masks secrets and phone numbers in a record's message, extras and traceback (in place)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if len(secret) >= MIN_SECRET_CHARS)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_callbridge_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what can be kept, never the raw arguments
            message = f"{record.msg} (log arguments did not fit the format)"
        record.msg, record.args = redact(message, self.secrets), None
        for key, value in (_BOUND.get() or {}).items():
            if key not in vars(record):
                setattr(record, key, value)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and not key.startswith("_"):
                setattr(record, key, self._clean(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        setattr(record, "_callbridge_redacted", True)  # noqa: B010 (not a LogRecord attribute)
        return True

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, self.secrets)
        if isinstance(value, dict):
            return {key: self._clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._clean(item) for item in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return redact(str(value), self.secrets)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD and not key.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, then the record's extras, then exc."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": iso_utc(datetime.fromtimestamp(record.created, UTC), timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            document.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exc"] = record.exc_text
        if record.stack_info:
            document["stack"] = record.stack_info
        return jsonlib.dumps(document, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value…` for people reading a terminal (the demo)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extras = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        return f"{line} {extras}" if extras else line


def configure_logging(
    level: str | int = "INFO", *, json: bool, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Route every logger (uvicorn's too) to one masked handler on `stream` (stderr); idempotent."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(Redactor(secrets))
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    handler.set_name("callbridge")
    root = logging.getLogger()
    for old in [old for old in root.handlers if old.get_name() == "callbridge"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in _UVICORN:
        # uvicorn installs its own handlers, which would print unmasked request lines beside ours
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    quiet = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for name in _CHATTY:
        logging.getLogger(name).setLevel(quiet)
    return handler


def configure_from_settings(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """`configure_logging` as a process starts: level, format and secrets from its settings."""
    handler = configure_logging(
        settings.log_level, json=settings.log_format == "json", secrets=secret_values(settings), stream=stream
    )
    if settings.demo:
        logging.getLogger("callbridge").warning(
            "CALLBRIDGE_DEMO=1: card links are signed with the public demo key and anyone can forge them; "
            "never run a deployment like this (unset CALLBRIDGE_DEMO, set CALLBRIDGE_SIGNING_KEY)"
        )
    return handler

def mask_phone(e164: str) -> str:
    """For logs: country code and last four digits only (`+44******0958`)."""
    digits = re.sub(r"\D", "", e164)
    keep_head = 0
    try:
        keep_head = len(str(phonenumbers.parse(e164, None).country_code))
    except NumberParseException:
        pass
    tail = min(4, max(0, len(digits) - keep_head))
    hidden = len(digits) - keep_head - tail
    return f"+{digits[:keep_head]}{'*' * hidden}{digits[len(digits) - tail :]}"
