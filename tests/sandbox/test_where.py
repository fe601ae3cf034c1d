from __future__ import annotations

from typing import Any

import pytest

from sandbox.where import WhereSyntaxError, compile_where

ALAN: dict[str, Any] = {
    "id": 102,
    "email": "Alan.Turing@Northwind-Staffing.Com",
    "lastName": "O'Brien",
    "enabled": True,
    "isDeleted": False,
    "phone": None,
    "dateAdded": 1_790_000_000_000,
    "owner": {"id": 101, "lastName": "Hopper"},
}


def matches(where: str, record: dict[str, Any] = ALAN, **options: Any) -> bool:
    return compile_where(where, **options)(record)


def test_string_equality_ignores_case_by_default() -> None:
    assert matches("email = 'alan.turing@northwind-staffing.com'")
    assert matches("email='ALAN.TURING@NORTHWIND-STAFFING.COM'")


def test_string_equality_can_be_made_case_sensitive() -> None:
    assert not matches("email = 'alan.turing@northwind-staffing.com'", case_insensitive=False)
    assert matches("email = 'Alan.Turing@Northwind-Staffing.Com'", case_insensitive=False)


def test_doubled_quote_is_an_escaped_quote_in_a_string_literal() -> None:
    assert matches("lastName = 'o''brien'")
    assert not matches("lastName = 'obrien'")


def test_trailing_spaces_do_not_count_as_in_sql_server() -> None:
    assert matches("owner.lastName = 'Hopper  '")


def test_comparison_operators_on_numbers() -> None:
    assert matches("id = 102") and matches("id <> 5") and matches("id != 5")
    assert matches("id > 101") and matches("id >= 102") and matches("id < 103") and matches("id <= 102")
    assert not matches("id < 102")
    assert matches("dateAdded > 1789999999999")


def test_booleans_compare_with_true_false_and_one_zero() -> None:
    assert matches("isDeleted = false AND enabled = true")
    assert matches("isDeleted = 0 AND enabled = 1")
    assert not matches("isDeleted = true")


def test_in_lists_and_not_in() -> None:
    assert matches("id IN (1, 102, 3)")
    assert matches("owner.id in (101)")
    assert matches("id NOT IN (1, 2)")
    assert not matches("id NOT IN (102)")
    assert matches("email IN ('x', 'ALAN.TURING@northwind-staffing.com')")


def test_is_null_and_is_not_null() -> None:
    assert matches("phone IS NULL")
    assert matches("email IS NOT NULL")
    assert not matches("phone IS NOT NULL")
    assert matches("missing.path IS NULL")


def test_null_comparisons_are_unknown_and_not_does_not_make_them_true() -> None:
    assert not matches("phone = '1'")
    assert not matches("NOT phone = '1'")
    assert not matches("NOT (phone <> '1')")
    assert matches("phone = '1' OR id = 102")
    assert not matches("phone = '1' AND id = 102")


def test_dotted_paths_reach_into_associations() -> None:
    assert matches("owner.id = 101")
    assert not matches("owner.id = 102")


def test_keywords_are_case_insensitive_and_parentheses_group() -> None:
    assert matches("(id = 1 or id = 102) and not (isDeleted = true)")
    assert not matches("id = 1 OR id = 2 AND id = 102")


def test_the_corporate_user_lookup_shape() -> None:
    where = "email = 'alan.turing@northwind-staffing.com' AND isDeleted = false"
    assert matches(where)
    assert not matches(where, {**ALAN, "isDeleted": True, "enabled": False})


def test_paths_lists_every_field_read() -> None:
    assert compile_where("owner.id = 1 AND (email IS NULL OR id IN (1))").paths == {"owner.id", "email", "id"}


@pytest.mark.parametrize(
    ("where", "names"),
    [
        ("", "empty"),
        ("email =", "expected a value"),
        ("email = 'x", "unterminated string literal"),
        ("id = 1 AND", "expected a field name"),
        ("(id = 1", "expected \\)"),
        ("id = NULL", "IS NULL"),
        ("id 5", "expected an operator"),
        ("id = 5 6", "expected AND, OR or the end"),
        ("id IN ()", "expected a value"),
        ("id ~ 5", "unexpected character '~'"),
        ("email LIKE 'a%'", "not supported"),
    ],
)
def test_syntax_errors_name_what_is_wrong(where: str, names: str) -> None:
    with pytest.raises(WhereSyntaxError, match=names):
        compile_where(where)
