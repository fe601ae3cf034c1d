"""Settings read once from the environment (or any mapping) into one frozen object.

Every variable of DESIGN §2 lives here. `load_settings(environ)` raises `SettingsError` with one
line naming the variable that is missing or malformed; secrets keep a masked repr so the object
can be logged.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

import phonenumbers

from shared.note_settings import (
    DEFAULT_AI_WAIT_S,
    DEFAULT_NOTE_AI,
    SETTLE_S_ONCE,
    SETTLE_S_UPDATE,
    NoteMode,
    NoteSettingsError,
    parse_default_actions,
    parse_note_ai,
    parse_note_mode,
)

T = TypeVar("T")

# Only ever used when CALLBRIDGE_DEMO=1: the demo needs card links that every process can verify.
DEMO_SIGNING_KEY = "callbridge-demo-signing-key-not-for-production"
#: HMAC-SHA256 and the token sealing key (HKDF) want a key at least as long as the hash
MIN_SIGNING_KEY_BYTES = 32
#: where the HTML card may be embedded: Aircall's and Bullhorn's web apps
DEFAULT_FRAME_ANCESTORS = "https://*.aircall.io https://*.bullhornstaffing.com https://*.bullhorn.com"


class SettingsError(ValueError):
    """A variable is missing or malformed; the message names it."""


class Secret:
    """A string that never shows itself in repr/str (so settings can be logged)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./callbridge.db"
    redis_url: str | None = None
    api_key: Secret | None = None
    signing_key: Secret = field(default_factory=lambda: Secret(DEMO_SIGNING_KEY))
    #: the key being rotated out: card links and sealed tokens it signed are still accepted
    signing_key_previous: Secret | None = None
    public_url: str = "http://127.0.0.1:8000"
    default_region: str = "US"
    cache_ttl_s: float = 300.0
    negative_ttl_s: float = 30.0
    note_settle_s: float = SETTLE_S_UPDATE
    max_associated: int = 3
    default_action: str | None = None
    excluded_statuses: tuple[str, ...] = ("Archive", "Archived")
    aircall_api_url: str = "https://api.aircall.io"
    aircall_api_id: str = ""
    aircall_api_token: Secret = field(default_factory=lambda: Secret(""))
    aircall_webhook_tokens: tuple[Secret, ...] = ()
    bullhorn_rest_url: str = "https://rest.bullhornstaffing.com/rest-services"
    bullhorn_client_id: str = ""
    bullhorn_client_secret: Secret = field(default_factory=lambda: Secret(""))
    bullhorn_username: str = ""
    bullhorn_password: Secret = field(default_factory=lambda: Secret(""))
    bullhorn_ui_url: str | None = None
    bullhorn_default_user_id: int | None = None
    #: Bullhorn requests one worker process keeps in flight at most
    bullhorn_concurrency: int = 8
    #: sync attempts of one call before it is given up as `dead`
    max_attempts: int = 8
    #: seconds a worker's claim on a call lasts; a live worker renews it every third of that, so this is how
    #: long a killed worker's calls wait before another worker takes them over
    worker_lease_s: float = 300.0
    #: Bullhorn requests callbridge may send a month (Bullhorn meters API calls per tenant per month)
    bullhorn_monthly_api_budget: int = 100_000
    #: the share of that budget index upkeep may spend (0 < share <= 1)
    index_budget_share: float = 0.1
    #: seconds between index event polls; unset: derived from the budget and the share
    index_poll_s: float | None = None
    #: seconds between backfill runs (the worker lists Aircall's calls); 0 turns backfill off
    backfill_interval_s: float = 300.0
    #: how far back the first backfill run of a fresh store looks, in seconds
    backfill_lookback_s: int = 3600
    #: DEBUG, INFO, WARNING, ERROR or CRITICAL
    log_level: str = "INFO"
    #: `json` (one object per line, for log collectors) or `text` (people at a terminal: the demo)
    log_format: str = "json"
    demo: bool = False
    #: networks (CIDRs) `/metrics` answers; empty: every client
    metrics_allow: tuple[str, ...] = ()
    #: CSP frame-ancestors of the HTML card: the sites that may embed it
    card_frame_ancestors: str = DEFAULT_FRAME_ANCESTORS
    #: days after which a settled call's raw events and phone numbers are purged
    retention_days: int = 90
    #: after a failed Bullhorn login, seconds before the process tries to log in again
    login_backoff_s: float = 60.0
    #: seconds a request body may take to arrive in full before the request answers 408
    body_timeout_s: float = 30.0
    #: bytes of webhook bodies the web process holds at once while they arrive; beyond it, 503
    webhook_bytes_in_flight: int = 8 * 1024 * 1024
    #: log SMS/WhatsApp messages as one Bullhorn note per person, line and UTC day (DESIGN §12)
    messages: bool = True
    #: a candidate's call note carries their one active job (`jobOrder`); Bullhorn Automation ignores notes
    #: that reference other records, so tenants whose automations run on candidate notes may turn it off
    link_job: bool = True
    #: cards carry their context (DESIGN §13: last contact, colleagues on the line, pipeline); 0 turns it off
    card_context: bool = True

    # DESIGN §12 (shared.note_settings)
    #: `update` edits the note as data arrives; `once` writes it once and never edits it (create-only API users)
    note_mode: NoteMode = "update"
    #: the AI sections the note shows, in note order
    note_ai: tuple[str, ...] = DEFAULT_NOTE_AI
    #: once mode: how much longer than the settle time the write waits for the AI summary
    note_ai_wait_s: float = DEFAULT_AI_WAIT_S
    #: (call type, action) pairs used when the agent pushed no tag; `default_action` covers the rest
    default_actions: tuple[tuple[str, str], ...] = ()

    @property
    def signing_keys(self) -> tuple[str, ...]:
        """Every key a signature or a sealed token may be checked with, the current one first."""
        previous = (self.signing_key_previous.get(),) if self.signing_key_previous else ()
        return (self.signing_key.get(), *previous)


#: what each unset variable means: the defaults above, written once
DEFAULTS = Settings()


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _database_url(name: str, value: str) -> str:
    if not (value.startswith("sqlite") or value.startswith("postgresql")):
        raise SettingsError(f"{name} must be a sqlite:// or postgresql:// URL, got {value.split('://')[0]!r}://…")
    return value


def _positive_float(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {value!r}") from None
    if number < 0:
        raise SettingsError(f"{name} must not be negative, got {value!r}")
    return number


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise SettingsError(f"{name} must be at least 1, got {value!r}")
    return number


def _lease_s(name: str, value: str) -> float:
    number = _positive_float(name, value)
    if number < 1:
        raise SettingsError(f"{name} must be at least 1 second, got {value!r}")
    return number


def _share(name: str, value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        share = float("nan")
    if not 0 < share <= 1:
        raise SettingsError(f"{name} must be a fraction above 0 and at most 1, got {value!r}")
    return share


def _timeout_s(name: str, value: str) -> float:
    number = _positive_float(name, value)
    if number == 0:
        raise SettingsError(f"{name} must be more than 0 seconds, got {value!r}")
    return number


def _signing_key(name: str, value: str) -> str:
    if len(value.encode()) < MIN_SIGNING_KEY_BYTES:
        raise SettingsError(
            f"{name} must be at least {MIN_SIGNING_KEY_BYTES} bytes (got {len(value.encode())}); "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return value


def _frame_ancestors(name: str, value: str) -> str:
    if any(mark in value for mark in ";,\r\n"):
        raise SettingsError(f"{name} must be CSP sources separated by spaces, got {value!r}")
    return " ".join(value.split())


def _networks(name: str, value: str) -> tuple[str, ...]:
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


def _region(name: str, value: str) -> str:
    region = value.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(f"{name} must be an ISO 3166 region code such as US or GB, got {value!r}")
    return region


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _log_level(name: str, value: str) -> str:
    level = value.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(f"{name} must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {value!r}")
    return level


def _log_format(name: str, value: str) -> str:
    form = value.lower()
    if form not in ("json", "text"):
        raise SettingsError(f"{name} must be json or text, got {value!r}")
    return form


def _text(_name: str, value: str) -> str:
    return value


def _note_setting(parse: Callable[[str, str], T]) -> Callable[[str, str], T]:
    def cast(name: str, value: str) -> T:
        try:
            return parse(name, value)
        except NoteSettingsError as error:
            raise SettingsError(str(error)) from None

    return cast


class _Reader:
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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the one Settings object from `environ` (the process environment by default)."""
    env = _Reader(os.environ if environ is None else environ)
    demo = env.get("CALLBRIDGE_DEMO", _bool, DEFAULTS.demo)
    public_url = env.get("CALLBRIDGE_PUBLIC_URL", _url, DEFAULTS.public_url)
    if demo and not is_loopback_url(public_url):
        raise SettingsError(
            f"CALLBRIDGE_DEMO=1 is refused: CALLBRIDGE_PUBLIC_URL {public_url} is not a loopback URL, and the demo "
            "signs card links with a public key; unset CALLBRIDGE_DEMO and set CALLBRIDGE_SIGNING_KEY"
        )
    signing_key = env.optional("CALLBRIDGE_SIGNING_KEY", _signing_key)
    if signing_key is None and not demo:
        raise SettingsError("CALLBRIDGE_SIGNING_KEY is required but not set (only the demo may omit it)")
    previous_key = env.optional("CALLBRIDGE_SIGNING_KEY_PREVIOUS", _signing_key)
    # Optional since the setup doctor's register_webhook fix keeps the token Aircall returns (DESIGN §11).
    webhook_tokens = tuple(
        Secret(token.strip()) for token in env.get("AIRCALL_WEBHOOK_TOKEN", _text, "").split(",") if token.strip()
    )
    excluded = env.optional("CALLBRIDGE_EXCLUDED_STATUSES", _text)
    api_key = env.optional("CALLBRIDGE_API_KEY", _text)
    note_mode = env.get("CALLBRIDGE_NOTE_MODE", _note_setting(parse_note_mode), DEFAULTS.note_mode)
    # an explicit settle time wins; unset, once mode waits for late tags and comments before its one write
    settle_default = SETTLE_S_ONCE if note_mode == "once" else SETTLE_S_UPDATE
    return Settings(
        database_url=env.get("DATABASE_URL", _database_url, DEFAULTS.database_url),
        redis_url=env.optional("REDIS_URL", _text),
        api_key=Secret(api_key) if api_key else None,
        signing_key=Secret(signing_key) if signing_key else DEFAULTS.signing_key,
        signing_key_previous=Secret(previous_key) if previous_key else None,
        public_url=public_url,
        default_region=env.get("CALLBRIDGE_DEFAULT_REGION", _region, DEFAULTS.default_region),
        cache_ttl_s=env.get("CALLBRIDGE_CACHE_TTL_S", _positive_float, DEFAULTS.cache_ttl_s),
        negative_ttl_s=env.get("CALLBRIDGE_NEGATIVE_TTL_S", _positive_float, DEFAULTS.negative_ttl_s),
        note_settle_s=env.get("CALLBRIDGE_NOTE_SETTLE_S", _positive_float, settle_default),
        max_associated=env.get("CALLBRIDGE_MAX_ASSOCIATED", _positive_int, DEFAULTS.max_associated),
        default_action=env.optional("CALLBRIDGE_DEFAULT_ACTION", _text),
        excluded_statuses=DEFAULTS.excluded_statuses if excluded is None else tuple(
            status.strip() for status in excluded.split(",") if status.strip()),
        aircall_api_url=env.get("AIRCALL_API_URL", _url, DEFAULTS.aircall_api_url),
        aircall_api_id=env.required("AIRCALL_API_ID", _text),
        aircall_api_token=Secret(env.required("AIRCALL_API_TOKEN", _text)),
        aircall_webhook_tokens=webhook_tokens,
        bullhorn_rest_url=env.get("BULLHORN_REST_URL", _url, DEFAULTS.bullhorn_rest_url),
        bullhorn_client_id=env.required("BULLHORN_CLIENT_ID", _text),
        bullhorn_client_secret=Secret(env.required("BULLHORN_CLIENT_SECRET", _text)),
        bullhorn_username=env.required("BULLHORN_USERNAME", _text),
        bullhorn_password=Secret(env.required("BULLHORN_PASSWORD", _text)),
        bullhorn_ui_url=env.optional("BULLHORN_UI_URL", _url),
        bullhorn_default_user_id=env.optional("BULLHORN_DEFAULT_USER_ID", _positive_int),
        bullhorn_concurrency=env.get("CALLBRIDGE_BULLHORN_CONCURRENCY", _positive_int, DEFAULTS.bullhorn_concurrency),
        max_attempts=env.get("CALLBRIDGE_MAX_ATTEMPTS", _positive_int, DEFAULTS.max_attempts),
        worker_lease_s=env.get("CALLBRIDGE_WORKER_LEASE_S", _lease_s, DEFAULTS.worker_lease_s),
        bullhorn_monthly_api_budget=env.get("BULLHORN_MONTHLY_API_BUDGET", _positive_int,
                                            DEFAULTS.bullhorn_monthly_api_budget),
        index_budget_share=env.get("CALLBRIDGE_INDEX_BUDGET_SHARE", _share, DEFAULTS.index_budget_share),
        index_poll_s=env.optional("CALLBRIDGE_INDEX_POLL_S", _positive_float),
        backfill_interval_s=env.get("CALLBRIDGE_BACKFILL_INTERVAL_S", _positive_float, DEFAULTS.backfill_interval_s),
        backfill_lookback_s=env.get("CALLBRIDGE_BACKFILL_LOOKBACK_S", _positive_int, DEFAULTS.backfill_lookback_s),
        log_level=env.get("CALLBRIDGE_LOG_LEVEL", _log_level, DEFAULTS.log_level),
        log_format=env.get("CALLBRIDGE_LOG_FORMAT", _log_format, DEFAULTS.log_format),
        demo=demo,
        metrics_allow=env.get("CALLBRIDGE_METRICS_ALLOW", _networks, Settings.metrics_allow),
        card_frame_ancestors=env.get(
            "CALLBRIDGE_CARD_FRAME_ANCESTORS", _frame_ancestors, Settings.card_frame_ancestors
        ),
        retention_days=env.get("CALLBRIDGE_RETENTION_DAYS", _positive_int, Settings.retention_days),
        login_backoff_s=env.get("CALLBRIDGE_LOGIN_BACKOFF_S", _positive_float, Settings.login_backoff_s),
        body_timeout_s=env.get("CALLBRIDGE_BODY_TIMEOUT_S", _timeout_s, Settings.body_timeout_s),
        webhook_bytes_in_flight=env.get(
            "CALLBRIDGE_WEBHOOK_BYTES_IN_FLIGHT", _positive_int, Settings.webhook_bytes_in_flight
        ),
        messages=env.get("CALLBRIDGE_MESSAGES", _bool, Settings.messages),
        note_mode=note_mode,
        note_ai=env.get("CALLBRIDGE_NOTE_AI", _note_setting(parse_note_ai), DEFAULTS.note_ai),
        note_ai_wait_s=env.get("CALLBRIDGE_NOTE_AI_WAIT_S", _positive_float, DEFAULTS.note_ai_wait_s),
        default_actions=env.get("CALLBRIDGE_DEFAULT_ACTIONS", _note_setting(parse_default_actions),
                                DEFAULTS.default_actions),
        link_job=env.get("CALLBRIDGE_LINK_JOB", _bool, Settings.link_job),
        card_context=env.get("CALLBRIDGE_CARD_CONTEXT", _bool, Settings.card_context),
    )
