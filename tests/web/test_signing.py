from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from insight.web.signing import card_url, verify_card_link

KEY = "k" * 32


def _params(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_a_fresh_link_verifies_for_its_own_call() -> None:
    url = card_url("http://cb.test/", 123, key=KEY, now=1_000)
    params = _params(url)

    assert url.startswith("http://cb.test/cards/123?")
    assert verify_card_link(123, params["exp"], params["sig"], key=KEY, now=1_001) is None


def test_a_link_for_one_call_does_not_open_another() -> None:
    params = _params(card_url("http://cb.test", 123, key=KEY, now=1_000))

    assert verify_card_link(124, params["exp"], params["sig"], key=KEY, now=1_001) is not None


def test_an_extended_expiry_breaks_the_signature() -> None:
    params = _params(card_url("http://cb.test", 123, key=KEY, now=1_000))

    reason = verify_card_link(123, str(int(params["exp"]) + 3600), params["sig"], key=KEY, now=1_001)

    assert reason == "the card link's signature does not match"


def test_an_expired_link_is_refused_with_a_reason() -> None:
    params = _params(card_url("http://cb.test", 123, key=KEY, now=1_000, ttl_s=60))

    assert "expired" in (verify_card_link(123, params["exp"], params["sig"], key=KEY, now=1_061) or "")


def test_a_link_signed_with_another_key_is_refused() -> None:
    params = _params(card_url("http://cb.test", 123, key="other", now=1_000))

    assert verify_card_link(123, params["exp"], params["sig"], key=KEY, now=1_001) is not None


def test_missing_or_malformed_parameters_are_refused_without_raising() -> None:
    assert verify_card_link(1, None, "x", key=KEY, now=0) is not None
    assert verify_card_link(1, "soon", "x", key=KEY, now=0) is not None
