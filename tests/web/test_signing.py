from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from insight.web.signing import card_url, verify_card_link

KEY = "k" * 32
PREVIOUS = "p" * 32


def _params(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_a_fresh_link_verifies_for_its_own_call() -> None:
    url = card_url("http://cb.test/", 123, key=KEY, now=1_000)
    params = _params(url)

    assert url.startswith("http://cb.test/cards/123?")
    assert verify_card_link(123, params["exp"], params["sig"], keys=[KEY], now=1_001) is None


def test_a_link_for_one_call_does_not_open_another() -> None:
    params = _params(card_url("http://cb.test", 123, key=KEY, now=1_000))

    assert verify_card_link(124, params["exp"], params["sig"], keys=[KEY], now=1_001) is not None


def test_an_extended_expiry_breaks_the_signature() -> None:
    params = _params(card_url("http://cb.test", 123, key=KEY, now=1_000))

    reason = verify_card_link(123, str(int(params["exp"]) + 3600), params["sig"], keys=[KEY], now=1_001)

    assert reason == "the card link's signature does not match"


def test_an_expired_link_is_refused_with_a_reason() -> None:
    params = _params(card_url("http://cb.test", 123, key=KEY, now=1_000, ttl_s=60))

    assert "expired" in (verify_card_link(123, params["exp"], params["sig"], keys=[KEY], now=1_061) or "")


def test_a_link_signed_with_another_key_is_refused() -> None:
    params = _params(card_url("http://cb.test", 123, key="other", now=1_000))

    assert verify_card_link(123, params["exp"], params["sig"], keys=[KEY], now=1_001) is not None


def test_missing_or_malformed_parameters_are_refused_without_raising() -> None:
    assert verify_card_link(1, None, "x", keys=[KEY], now=0) is not None
    assert verify_card_link(1, "soon", "x", keys=[KEY], now=0) is not None


def test_during_a_rotation_links_signed_with_the_previous_key_are_accepted_and_others_are_not() -> None:
    old_link = _params(card_url("http://x", 123, key=PREVIOUS, now=1_000))

    assert verify_card_link(123, old_link["exp"], old_link["sig"], keys=[KEY, PREVIOUS], now=1_001) is None
    assert verify_card_link(123, old_link["exp"], old_link["sig"], keys=[KEY], now=1_001) is not None


@pytest.mark.parametrize("sig", ["é" * 43, "\u0661\u0662", "x" * 10_000])
def test_a_non_ascii_or_absurd_signature_is_refused_not_an_error(sig: str) -> None:
    assert verify_card_link(123, "2000", sig, keys=[KEY], now=1_001) == "the card link's signature does not match"


@pytest.mark.parametrize("exp", ["²", "١٢٣", "9" * 400, "-5"])
def test_an_exp_in_unicode_digits_or_absurdly_long_is_not_a_timestamp(exp: str) -> None:
    assert verify_card_link(123, exp, "x", keys=[KEY], now=1_001) == "the card link's exp is not a timestamp"
