from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from insight.domain.cards import (
    SHORT_TEXT_MAX,
    TITLE_MAX,
    build_aircall_card,
    build_card_json,
    content_security_policy,
    record_link,
    render_card_html,
)
from insight.domain.matching import Match

ATS = "https://cls33.bullhornstaffing.com"
WHEN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ADA = Match(
    entity="Candidate",
    id=42,
    name="Ada Lovelace",
    owner="Grace Hopper",
    company="Analytical Engines Ltd",
    status="Active",
    phone_field="mobile",
    date_last_modified=1_764_064_800_000,
    is_primary=True,
)
BOB = replace(
    ADA, entity="ClientContact", id=7, name="Bob Babbage", company="Difference Engines plc", phone_field="phone"
)
CAROL = replace(ADA, id=43, name="Carol Shaw", owner=None, company=None, status=None, phone_field="phone2")
HOSTILE = "<script>alert(1)</script>\"'&"


def card(matches: list[Match], **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "call_id": 123,
        "ui_base_url": ATS,
        "cached": False,
        "looked_up_at": WHEN,
        "card_url": "http://127.0.0.1:8000/cards/123?exp=1795000000&sig=abc",
    }
    arguments.update(overrides)
    return build_card_json("+14155550123", matches, **arguments)


def test_record_link_is_the_openwindow_overview_link() -> None:
    assert record_link(ATS + "/", "Candidate", 42) == (
        "https://cls33.bullhornstaffing.com/BullhornSTAFFING/OpenWindow.cfm?Entity=Candidate&id=42&view=Overview"
    )
    assert record_link(ATS, "Client Contact&x=1", 7).endswith("Entity=Client+Contact%26x%3D1&id=7&view=Overview")


def test_card_json_has_the_design_shape() -> None:
    assert card([ADA]) == {
        "phone": "+14155550123",
        "call_id": 123,
        "matches": [
            {
                "entity": "Candidate",
                "id": 42,
                "name": "Ada Lovelace",
                "owner": "Grace Hopper",
                "company": "Analytical Engines Ltd",
                "status": "Active",
                "phone_field": "mobile",
                "link": record_link(ATS, "Candidate", 42),
            }
        ],
        "more": 0,
        "cached": False,
        "looked_up_at": "2026-11-25T10:00:00Z",
        "card_url": "http://127.0.0.1:8000/cards/123?exp=1795000000&sig=abc",
    }


def test_a_bare_phone_lookup_has_no_call_id_nor_card_url() -> None:
    bare = card([ADA], call_id=None, card_url=None, cached=True)
    assert "call_id" not in bare and "card_url" not in bare and bare["cached"] is True


def test_matches_beyond_max_shown_are_counted_in_more() -> None:
    many = [replace(ADA, id=record_id) for record_id in range(1, 6)]
    assert [match["id"] for match in card(many, max_shown=2)["matches"]] == [1, 2]
    assert card(many, max_shown=2)["more"] == 3
    assert card([], max_shown=2) | {"matches": [], "more": 0} == card([], max_shown=2)


def test_looked_up_at_is_utc_with_z_whatever_the_zone_given() -> None:
    paris = WHEN.astimezone(timezone(timedelta(hours=1)))
    assert card([], looked_up_at=paris)["looked_up_at"] == "2026-11-25T10:00:00Z"
    assert card([], looked_up_at=WHEN.replace(tzinfo=None))["looked_up_at"] == "2026-11-25T10:00:00Z"


def test_aircall_card_titles_the_caller_linking_to_the_record_with_owner_company_status() -> None:
    lines = build_aircall_card("+14155550123", [ADA], ui_base_url=ATS)
    link = record_link(ATS, "Candidate", 42)
    assert lines == [
        {"type": "title", "text": "Ada Lovelace", "link": link},
        {"type": "shortText", "label": "Owner", "text": "Grace Hopper"},
        {"type": "shortText", "label": "Company", "text": "Analytical Engines Ltd"},
        {"type": "shortText", "label": "Status", "text": "Active"},
        {"type": "shortText", "label": "Record", "text": "Candidate · mobile", "link": link},
    ]


def test_aircall_card_skips_empty_lines_and_lists_the_next_matches() -> None:
    lines = build_aircall_card("+14155550123", [CAROL, BOB, ADA], ui_base_url=ATS)
    assert [line.get("label") for line in lines] == [None, "Record", "2 more matches"]
    assert lines[-1]["text"] == "Bob Babbage, Ada Lovelace"
    assert build_aircall_card("+1", [ADA, BOB], ui_base_url=ATS)[-1]["label"] == "1 more match"


def test_aircall_card_without_match_names_the_number_in_international_form() -> None:
    assert build_aircall_card("+442079460958", [], ui_base_url=ATS) == [
        {"type": "title", "text": "No Bullhorn match for +44 20 7946 0958"}
    ]


@pytest.mark.parametrize("phone", [None, "", "anonymous", "Anonymous"])
def test_aircall_card_for_an_anonymous_caller_says_there_is_no_match(phone: str | None) -> None:
    lines = build_aircall_card(phone, [], ui_base_url=ATS)
    assert lines[0] == {"type": "title", "text": "No Bullhorn match: anonymous caller"}


def test_aircall_card_texts_are_truncated_with_an_ellipsis() -> None:
    long = replace(ADA, name="Alexandra Konstantinopoulou-Papadopoulos Smythe", company="A" * 60)
    lines = build_aircall_card("+14155550123", [long, BOB, CAROL, ADA], ui_base_url=ATS)
    assert len(lines[0]["text"]) == TITLE_MAX and lines[0]["text"].endswith("…")
    for line in lines[1:]:
        assert len(line["text"]) <= SHORT_TEXT_MAX and len(line["label"]) <= SHORT_TEXT_MAX
    assert lines[2]["text"] == "A" * (SHORT_TEXT_MAX - 1) + "…"
    assert lines[-1]["text"].endswith("…")


def test_aircall_card_links_only_to_http_records() -> None:
    lines = build_aircall_card("+14155550123", [ADA], ui_base_url="javascript:alert(1)//")
    assert all("link" not in line for line in lines)


def test_html_card_shows_the_match_and_the_more_list() -> None:
    page = render_card_html(card([ADA, BOB, CAROL], max_shown=2) | {"cached": True}, refresh_s=15)
    assert page.startswith("<!doctype html>")
    for text in ("Ada Lovelace", "Grace Hopper", "Analytical Engines Ltd", "Active", "Mobile", "Candidate"):
        assert text in page
    assert f'href="{record_link(ATS, "Candidate", 42).replace("&", "&amp;")}"' in page
    assert "Open in Bullhorn" in page
    assert "2 more matches" in page and "Bob Babbage" in page and "and 1 more not listed" in page
    assert '<meta http-equiv="refresh" content="15">' in page
    assert "+1 415-555-0123" in page and "25 Nov 2026, 10:00 UTC" in page and "from cache" in page


def test_html_card_without_match_says_so_and_anonymous_too() -> None:
    assert "No Bullhorn match for +1 415-555-0123" in render_card_html(card([]), refresh_s=10)
    anonymous = render_card_html(
        build_card_json(None, [], call_id=1, ui_base_url=ATS, cached=False, looked_up_at=WHEN, card_url=None),
        refresh_s=0,
    )
    assert "anonymous caller" in anonymous and "http-equiv" not in anonymous


def test_html_card_escapes_hostile_values_in_every_field() -> None:
    hostile = Match(
        entity=HOSTILE,
        id=1,
        name=HOSTILE,
        owner=HOSTILE,
        company=HOSTILE,
        status=HOSTILE,
        phone_field=HOSTILE,
        date_last_modified=0,
        is_primary=True,
    )
    card_json = card([hostile, hostile]) | {"phone": HOSTILE, "looked_up_at": HOSTILE}
    card_json["matches"][1]["link"] = f"https://example.com/{HOSTILE}"
    page = render_card_html(card_json, refresh_s=5)
    assert "<script" not in page and "alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;" in page
    assert page.count("&lt;script&gt;") >= 7


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        " javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<b>x</b>",
        "//evil.example",
        "ftp://x",
    ],
)
def test_html_card_renders_non_http_links_as_text(link: str) -> None:
    card_json = card([ADA])
    card_json["matches"][0]["link"] = link
    page = render_card_html(card_json, refresh_s=5)
    assert "<a " not in page and "Open in Bullhorn" not in page


def test_html_card_loads_nothing_from_elsewhere() -> None:
    page = render_card_html(card([ADA, BOB]), refresh_s=5)
    assert not re.search(r"<(script|link|img|iframe|object|embed|form)\b", page)
    assert "@import" not in page and "url(" not in page
    # only the record links point outside, and only as links the user clicks
    assert set(re.findall(r'(?:src|href)="([^"]*)"', page)) == {
        record_link(ATS, "Candidate", 42).replace("&", "&amp;"),
        record_link(ATS, "ClientContact", 7).replace("&", "&amp;"),
    }


def test_csp_allows_exactly_the_cards_own_style_and_embedding_by_the_named_sites_only() -> None:
    page = render_card_html(card([ADA]), refresh_s=5)
    [css] = re.findall(r"<style>(.*?)</style>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = content_security_policy("https://*.aircall.io")
    assert f"style-src 'sha256-{digest}'" in policy
    for directive in ("default-src 'none'", "base-uri 'none'", "form-action 'none'"):
        assert directive in policy
    assert policy.endswith("; frame-ancestors https://*.aircall.io")
    assert "unsafe" not in policy and "script-src" not in policy and "*;" not in policy
