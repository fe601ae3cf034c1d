from __future__ import annotations

from dataclasses import replace

import pytest

from shared.settings import DEMO_SIGNING_KEY, Secret, Settings, SettingsError, load_settings

REQUIRED = {
    "AIRCALL_API_ID": "id",
    "AIRCALL_API_TOKEN": "aircall-token",
    "BULLHORN_CLIENT_ID": "client",
    "BULLHORN_CLIENT_SECRET": "client-secret",
    "BULLHORN_USERNAME": "api.user",
    "BULLHORN_PASSWORD": "hunter2",
    "CALLBRIDGE_SIGNING_KEY": "sign-me-with-at-least-32-bytes-of-key",
}


def test_defaults_follow_the_design_table_when_only_required_variables_are_set() -> None:
    settings = load_settings(REQUIRED)

    assert settings.database_url == "sqlite:///./callbridge.db"
    assert settings.redis_url is None
    assert settings.api_key is None
    assert settings.default_region == "US"
    assert (settings.cache_ttl_s, settings.negative_ttl_s) == (300.0, 30.0)
    assert settings.note_settle_s == 0.0
    assert settings.max_associated == 3
    assert settings.default_action is None
    assert settings.excluded_statuses == ("Archive", "Archived")
    assert settings.aircall_api_url == "https://api.aircall.io"
    assert settings.bullhorn_rest_url == "https://rest.bullhornstaffing.com/rest-services"
    assert settings.bullhorn_default_user_id is None


def test_every_unset_variable_means_the_default_of_settings_built_in_code() -> None:
    loaded = load_settings(REQUIRED)
    required = ("aircall_api_id", "aircall_api_token", "aircall_webhook_tokens", "bullhorn_client_id",
                "bullhorn_client_secret", "bullhorn_username", "bullhorn_password", "signing_key")

    assert loaded == replace(Settings(), **{name: getattr(loaded, name) for name in required})


def test_webhook_tokens_are_a_comma_separated_list_for_rotation() -> None:
    settings = load_settings({**REQUIRED, "AIRCALL_WEBHOOK_TOKEN": "hook-a, hook-b"})

    assert [token.get() for token in settings.aircall_webhook_tokens] == ["hook-a", "hook-b"]


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_a_missing_required_variable_is_named_in_a_one_line_error(name: str) -> None:
    environ = {key: value for key, value in REQUIRED.items() if key != name}

    with pytest.raises(SettingsError) as raised:
        load_settings(environ)

    assert name in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CALLBRIDGE_CACHE_TTL_S", "five minutes"),
        ("CALLBRIDGE_NEGATIVE_TTL_S", "-1"),
        ("CALLBRIDGE_MAX_ASSOCIATED", "0"),
        ("CALLBRIDGE_MAX_ASSOCIATED", "3.5"),
        ("CALLBRIDGE_DEFAULT_REGION", "Narnia"),
        ("CALLBRIDGE_PUBLIC_URL", "ftp://example.com"),
        ("AIRCALL_API_URL", "api.aircall.io"),
        ("DATABASE_URL", "mysql://db/callbridge"),
        ("BULLHORN_DEFAULT_USER_ID", "grace"),
        ("CALLBRIDGE_DEMO", "maybe"),
    ],
)
def test_a_malformed_variable_is_named_with_what_was_wrong(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**REQUIRED, name: value})

    assert str(raised.value).startswith(name)


def test_the_webhook_token_may_be_left_out_since_registered_webhooks_bring_their_own() -> None:
    assert load_settings(REQUIRED).aircall_webhook_tokens == ()
    assert load_settings({**REQUIRED, "AIRCALL_WEBHOOK_TOKEN": " , "}).aircall_webhook_tokens == ()


def test_the_signing_key_may_be_omitted_only_in_the_demo() -> None:
    without_key = {key: value for key, value in REQUIRED.items() if key != "CALLBRIDGE_SIGNING_KEY"}

    with pytest.raises(SettingsError, match="CALLBRIDGE_SIGNING_KEY"):
        load_settings(without_key)
    assert load_settings({**without_key, "CALLBRIDGE_DEMO": "1"}).signing_key.get() == DEMO_SIGNING_KEY


def test_secrets_never_appear_in_the_settings_repr() -> None:
    settings = load_settings({**REQUIRED, "CALLBRIDGE_API_KEY": "ops-key-123", "AIRCALL_WEBHOOK_TOKEN": "hook-a"})

    shown = repr(settings)

    for secret in ("aircall-token", "hook-a", "client-secret", "hunter2", "sign-me", "ops-key-123"):
        assert secret not in shown
    assert "api.user" in shown


def test_values_are_cast_and_trimmed() -> None:
    settings = load_settings(
        {
            **REQUIRED,
            "CALLBRIDGE_DEFAULT_REGION": "gb",
            "CALLBRIDGE_EXCLUDED_STATUSES": "Archive, Do Not Use ,",
            "CALLBRIDGE_MAX_ASSOCIATED": "5",
            "BULLHORN_DEFAULT_USER_ID": "42",
            "BULLHORN_REST_URL": "http://127.0.0.1:8100/bullhorn/rest-services/",
        }
    )

    assert settings.default_region == "GB"
    assert settings.excluded_statuses == ("Archive", "Do Not Use")
    assert settings.max_associated == 5
    assert settings.bullhorn_default_user_id == 42
    assert settings.bullhorn_rest_url == "http://127.0.0.1:8100/bullhorn/rest-services"


def test_secret_compares_by_value_but_prints_masked() -> None:
    assert Secret("a") == Secret("a")
    assert str(Secret("a")) == "**********"


def test_worker_concurrency_and_attempt_limit_default_to_8_and_can_be_set() -> None:
    assert (load_settings(REQUIRED).bullhorn_concurrency, load_settings(REQUIRED).max_attempts) == (8, 8)

    settings = load_settings({**REQUIRED, "CALLBRIDGE_BULLHORN_CONCURRENCY": "16", "CALLBRIDGE_MAX_ATTEMPTS": "3"})

    assert (settings.bullhorn_concurrency, settings.max_attempts) == (16, 3)


@pytest.mark.parametrize("name", ["CALLBRIDGE_BULLHORN_CONCURRENCY", "CALLBRIDGE_MAX_ATTEMPTS"])
def test_worker_limits_below_one_stop_the_process_naming_the_variable(name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**REQUIRED, name: "0"})


def test_the_worker_lease_defaults_to_5_minutes_and_can_be_shortened_to_no_less_than_a_second() -> None:
    assert load_settings(REQUIRED).worker_lease_s == 300.0
    assert load_settings({**REQUIRED, "CALLBRIDGE_WORKER_LEASE_S": "4.5"}).worker_lease_s == 4.5
    with pytest.raises(SettingsError, match="CALLBRIDGE_WORKER_LEASE_S must be at least 1 second"):
        load_settings({**REQUIRED, "CALLBRIDGE_WORKER_LEASE_S": "0.5"})


def test_logs_default_to_json_at_info_and_can_be_set() -> None:
    assert (load_settings(REQUIRED).log_level, load_settings(REQUIRED).log_format) == ("INFO", "json")

    settings = load_settings({**REQUIRED, "CALLBRIDGE_LOG_LEVEL": "debug", "CALLBRIDGE_LOG_FORMAT": "Text"})

    assert (settings.log_level, settings.log_format) == ("DEBUG", "text")


@pytest.mark.parametrize(("name", "value"), [("CALLBRIDGE_LOG_LEVEL", "loud"), ("CALLBRIDGE_LOG_FORMAT", "xml")])
def test_an_unknown_log_level_or_format_stops_the_process_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**REQUIRED, name: value})


def test_the_api_budget_defaults_to_100000_requests_with_a_tenth_for_the_index() -> None:
    settings = load_settings(REQUIRED)

    assert settings.bullhorn_monthly_api_budget == 100_000
    assert settings.index_budget_share == 0.1
    assert settings.index_poll_s is None


def test_an_explicit_index_poll_interval_and_share_are_read() -> None:
    settings = load_settings({**REQUIRED, "CALLBRIDGE_INDEX_POLL_S": "120", "CALLBRIDGE_INDEX_BUDGET_SHARE": "0.25",
                              "BULLHORN_MONTHLY_API_BUDGET": "250000"})

    assert (settings.index_poll_s, settings.index_budget_share, settings.bullhorn_monthly_api_budget) == (
        120.0, 0.25, 250_000)


@pytest.mark.parametrize("value", ["0", "1.5", "-0.1", "a tenth", "nan"])
def test_an_index_share_outside_zero_to_one_stops_the_process_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="CALLBRIDGE_INDEX_BUDGET_SHARE"):
        load_settings({**REQUIRED, "CALLBRIDGE_INDEX_BUDGET_SHARE": value})


def test_backfill_runs_every_5_minutes_looking_back_an_hour_on_a_fresh_store_and_0_turns_it_off() -> None:
    defaults = load_settings(REQUIRED)
    off = load_settings({**REQUIRED, "CALLBRIDGE_BACKFILL_INTERVAL_S": "0", "CALLBRIDGE_BACKFILL_LOOKBACK_S": "86400"})

    assert (defaults.backfill_interval_s, defaults.backfill_lookback_s) == (300.0, 3600)
    assert (off.backfill_interval_s, off.backfill_lookback_s) == (0.0, 86_400)


def test_bodies_have_a_30_s_deadline_and_webhooks_8_mib_in_flight_unless_set() -> None:
    assert (load_settings(REQUIRED).body_timeout_s, load_settings(REQUIRED).webhook_bytes_in_flight) == (
        30.0, 8 * 1024 * 1024)
    tuned = load_settings(
        {**REQUIRED, "CALLBRIDGE_BODY_TIMEOUT_S": "1.5", "CALLBRIDGE_WEBHOOK_BYTES_IN_FLIGHT": "4096"}
    )
    assert (tuned.body_timeout_s, tuned.webhook_bytes_in_flight) == (1.5, 4096)
    with pytest.raises(SettingsError, match="CALLBRIDGE_BODY_TIMEOUT_S"):
        load_settings({**REQUIRED, "CALLBRIDGE_BODY_TIMEOUT_S": "0"})


def test_a_failed_bullhorn_login_is_not_tried_again_for_60_s_unless_set() -> None:
    assert load_settings(REQUIRED).login_backoff_s == 60.0
    assert load_settings({**REQUIRED, "CALLBRIDGE_LOGIN_BACKOFF_S": "5"}).login_backoff_s == 5.0


def test_settled_calls_are_purged_after_90_days_unless_set() -> None:
    assert load_settings(REQUIRED).retention_days == 90
    assert load_settings({**REQUIRED, "CALLBRIDGE_RETENTION_DAYS": "30"}).retention_days == 30


@pytest.mark.parametrize("name", ["CALLBRIDGE_SIGNING_KEY", "CALLBRIDGE_SIGNING_KEY_PREVIOUS"])
def test_a_signing_key_shorter_than_32_bytes_stops_the_process_naming_the_variable(name: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} must be at least 32 bytes"):
        load_settings({**REQUIRED, name: "k" * 31})


def test_during_a_rotation_both_signing_keys_are_accepted_the_current_one_first() -> None:
    previous = "the-previous-signing-key-32-bytes-long"
    settings = load_settings({**REQUIRED, "CALLBRIDGE_SIGNING_KEY_PREVIOUS": previous})

    assert settings.signing_keys == (REQUIRED["CALLBRIDGE_SIGNING_KEY"], previous)
    assert load_settings(REQUIRED).signing_keys == (REQUIRED["CALLBRIDGE_SIGNING_KEY"],)


@pytest.mark.parametrize("public_url", ["https://callbridge.example.com", "http://10.0.0.5:8000", "http://0.0.0.0"])
def test_the_demo_switch_is_refused_unless_the_public_url_is_loopback(public_url: str) -> None:
    with pytest.raises(SettingsError, match="CALLBRIDGE_DEMO=1 is refused"):
        load_settings({**REQUIRED, "CALLBRIDGE_DEMO": "1", "CALLBRIDGE_PUBLIC_URL": public_url})


@pytest.mark.parametrize("public_url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_the_demo_switch_is_accepted_on_a_loopback_public_url(public_url: str) -> None:
    assert load_settings({**REQUIRED, "CALLBRIDGE_DEMO": "1", "CALLBRIDGE_PUBLIC_URL": public_url}).demo


def test_the_card_may_be_framed_by_aircall_and_bullhorn_by_default_or_by_the_sites_named() -> None:
    assert load_settings(REQUIRED).card_frame_ancestors == (
        "https://*.aircall.io https://*.bullhornstaffing.com https://*.bullhorn.com")
    named = load_settings({**REQUIRED, "CALLBRIDGE_CARD_FRAME_ANCESTORS": " https://crm.example.com  'self' "})
    assert named.card_frame_ancestors == "https://crm.example.com 'self'"
    with pytest.raises(SettingsError, match="CALLBRIDGE_CARD_FRAME_ANCESTORS"):
        load_settings({**REQUIRED, "CALLBRIDGE_CARD_FRAME_ANCESTORS": "*; script-src *"})


def test_metrics_networks_are_cidrs_and_a_malformed_one_is_named() -> None:
    assert load_settings(REQUIRED).metrics_allow == ()
    allowed = load_settings({**REQUIRED, "CALLBRIDGE_METRICS_ALLOW": "10.0.0.0/8, 192.168.1.7, ::1"}).metrics_allow
    assert allowed == ("10.0.0.0/8", "192.168.1.7/32", "::1/128")
    with pytest.raises(SettingsError, match="CALLBRIDGE_METRICS_ALLOW"):
        load_settings({**REQUIRED, "CALLBRIDGE_METRICS_ALLOW": "office"})
