"""Settings read once from the environment (or any mapping) into one frozen object.

Every variable of DESIGN §2 lives here. `load_settings(environ)` raises `SettingsError` with one
line naming the variable that is missing or malformed; secrets keep a masked repr so the object
can be logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared import setting_values as cast
from shared.note_settings import (
    DEFAULT_AI_WAIT_S,
    DEFAULT_NOTE_AI,
    SETTLE_S_ONCE,
    SETTLE_S_UPDATE,
    NoteMode,
    parse_default_actions,
    parse_note_ai,
    parse_note_mode,
)
from shared.setting_values import MIN_SIGNING_KEY_BYTES, SettingsError, is_loopback_host, is_loopback_url

__all__ = ["DEFAULTS", "MIN_SIGNING_KEY_BYTES", "Secret", "Settings", "SettingsError", "is_loopback_host",
           "is_loopback_url", "load_settings"]

# Only ever used when CALLBRIDGE_DEMO=1: the demo needs card links that every process can verify.
DEMO_SIGNING_KEY = "callbridge-demo-signing-key-not-for-production"
#: where the HTML card may be embedded: Aircall's and Bullhorn's web apps
DEFAULT_FRAME_ANCESTORS = "https://*.aircall.io https://*.bullhornstaffing.com https://*.bullhorn.com"


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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the one Settings object from `environ` (the process environment by default)."""
    env = cast.EnvReader(os.environ if environ is None else environ)
    demo = env.get("CALLBRIDGE_DEMO", cast.boolean, DEFAULTS.demo)
    public_url = env.get("CALLBRIDGE_PUBLIC_URL", cast.url, DEFAULTS.public_url)
    if demo and not is_loopback_url(public_url):
        raise SettingsError(
            f"CALLBRIDGE_DEMO=1 is refused: CALLBRIDGE_PUBLIC_URL {public_url} is not a loopback URL, and the demo "
            "signs card links with a public key; unset CALLBRIDGE_DEMO and set CALLBRIDGE_SIGNING_KEY"
        )
    signing_key = env.optional("CALLBRIDGE_SIGNING_KEY", cast.signing_key)
    if signing_key is None and not demo:
        raise SettingsError("CALLBRIDGE_SIGNING_KEY is required but not set (only the demo may omit it)")
    previous_key = env.optional("CALLBRIDGE_SIGNING_KEY_PREVIOUS", cast.signing_key)
    # Optional since the setup doctor's register_webhook fix keeps the token Aircall returns (DESIGN §11).
    webhook_tokens = tuple(
        Secret(token.strip()) for token in env.get("AIRCALL_WEBHOOK_TOKEN", cast.text, "").split(",") if token.strip()
    )
    excluded = env.optional("CALLBRIDGE_EXCLUDED_STATUSES", cast.text)
    api_key = env.optional("CALLBRIDGE_API_KEY", cast.text)
    note_mode = env.get("CALLBRIDGE_NOTE_MODE", cast.note_setting(parse_note_mode), DEFAULTS.note_mode)
    # an explicit settle time wins; unset, once mode waits for late tags and comments before its one write
    settle_default = SETTLE_S_ONCE if note_mode == "once" else SETTLE_S_UPDATE
    return Settings(
        database_url=env.get("DATABASE_URL", cast.database_url, DEFAULTS.database_url),
        redis_url=env.optional("REDIS_URL", cast.text),
        api_key=Secret(api_key) if api_key else None,
        signing_key=Secret(signing_key) if signing_key else DEFAULTS.signing_key,
        signing_key_previous=Secret(previous_key) if previous_key else None,
        public_url=public_url,
        default_region=env.get("CALLBRIDGE_DEFAULT_REGION", cast.region, DEFAULTS.default_region),
        cache_ttl_s=env.get("CALLBRIDGE_CACHE_TTL_S", cast.positive_float, DEFAULTS.cache_ttl_s),
        negative_ttl_s=env.get("CALLBRIDGE_NEGATIVE_TTL_S", cast.positive_float, DEFAULTS.negative_ttl_s),
        note_settle_s=env.get("CALLBRIDGE_NOTE_SETTLE_S", cast.positive_float, settle_default),
        max_associated=env.get("CALLBRIDGE_MAX_ASSOCIATED", cast.positive_int, DEFAULTS.max_associated),
        default_action=env.optional("CALLBRIDGE_DEFAULT_ACTION", cast.text),
        excluded_statuses=DEFAULTS.excluded_statuses if excluded is None else tuple(
            status.strip() for status in excluded.split(",") if status.strip()),
        aircall_api_url=env.get("AIRCALL_API_URL", cast.url, DEFAULTS.aircall_api_url),
        aircall_api_id=env.required("AIRCALL_API_ID", cast.text),
        aircall_api_token=Secret(env.required("AIRCALL_API_TOKEN", cast.text)),
        aircall_webhook_tokens=webhook_tokens,
        bullhorn_rest_url=env.get("BULLHORN_REST_URL", cast.url, DEFAULTS.bullhorn_rest_url),
        bullhorn_client_id=env.required("BULLHORN_CLIENT_ID", cast.text),
        bullhorn_client_secret=Secret(env.required("BULLHORN_CLIENT_SECRET", cast.text)),
        bullhorn_username=env.required("BULLHORN_USERNAME", cast.text),
        bullhorn_password=Secret(env.required("BULLHORN_PASSWORD", cast.text)),
        bullhorn_ui_url=env.optional("BULLHORN_UI_URL", cast.url),
        bullhorn_default_user_id=env.optional("BULLHORN_DEFAULT_USER_ID", cast.positive_int),
        bullhorn_concurrency=env.get("CALLBRIDGE_BULLHORN_CONCURRENCY", cast.positive_int,
                                     DEFAULTS.bullhorn_concurrency),
        max_attempts=env.get("CALLBRIDGE_MAX_ATTEMPTS", cast.positive_int, DEFAULTS.max_attempts),
        worker_lease_s=env.get("CALLBRIDGE_WORKER_LEASE_S", cast.lease_s, DEFAULTS.worker_lease_s),
        bullhorn_monthly_api_budget=env.get("BULLHORN_MONTHLY_API_BUDGET", cast.positive_int,
                                            DEFAULTS.bullhorn_monthly_api_budget),
        index_budget_share=env.get("CALLBRIDGE_INDEX_BUDGET_SHARE", cast.share, DEFAULTS.index_budget_share),
        index_poll_s=env.optional("CALLBRIDGE_INDEX_POLL_S", cast.positive_float),
        backfill_interval_s=env.get("CALLBRIDGE_BACKFILL_INTERVAL_S", cast.positive_float,
                                    DEFAULTS.backfill_interval_s),
        backfill_lookback_s=env.get("CALLBRIDGE_BACKFILL_LOOKBACK_S", cast.positive_int, DEFAULTS.backfill_lookback_s),
        log_level=env.get("CALLBRIDGE_LOG_LEVEL", cast.log_level, DEFAULTS.log_level),
        log_format=env.get("CALLBRIDGE_LOG_FORMAT", cast.log_format, DEFAULTS.log_format),
        demo=demo,
        metrics_allow=env.get("CALLBRIDGE_METRICS_ALLOW", cast.networks, Settings.metrics_allow),
        card_frame_ancestors=env.get(
            "CALLBRIDGE_CARD_FRAME_ANCESTORS", cast.frame_ancestors, Settings.card_frame_ancestors
        ),
        retention_days=env.get("CALLBRIDGE_RETENTION_DAYS", cast.positive_int, Settings.retention_days),
        login_backoff_s=env.get("CALLBRIDGE_LOGIN_BACKOFF_S", cast.positive_float, Settings.login_backoff_s),
        body_timeout_s=env.get("CALLBRIDGE_BODY_TIMEOUT_S", cast.timeout_s, Settings.body_timeout_s),
        webhook_bytes_in_flight=env.get(
            "CALLBRIDGE_WEBHOOK_BYTES_IN_FLIGHT", cast.positive_int, Settings.webhook_bytes_in_flight
        ),
        messages=env.get("CALLBRIDGE_MESSAGES", cast.boolean, Settings.messages),
        note_mode=note_mode,
        note_ai=env.get("CALLBRIDGE_NOTE_AI", cast.note_setting(parse_note_ai), DEFAULTS.note_ai),
        note_ai_wait_s=env.get("CALLBRIDGE_NOTE_AI_WAIT_S", cast.positive_float, DEFAULTS.note_ai_wait_s),
        default_actions=env.get("CALLBRIDGE_DEFAULT_ACTIONS", cast.note_setting(parse_default_actions),
                                DEFAULTS.default_actions),
        link_job=env.get("CALLBRIDGE_LINK_JOB", cast.boolean, Settings.link_job),
        card_context=env.get("CALLBRIDGE_CARD_CONTEXT", cast.boolean, Settings.card_context),
    )
