"""The JPQL-ish `where` of Bullhorn's `query/{Entity}`, compiled to a predicate over records.

Supported: `=`, `<>` (and `!=`), `<`, `>`, `<=`, `>=`, `[NOT] IN (…)`, `IS [NOT] NULL`, AND/OR/NOT,
parentheses, dotted paths (`owner.id`), `'single quoted'` strings with `''` for a quote, numbers,
`true`/`false`. Evaluation follows SQL's three-valued logic: anything compared with NULL is unknown,
NOT unknown is still unknown, and only rows where the clause is true are returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_Value = str | int | float | bool
#: True, False, or None for SQL's "unknown"
_Node = Callable[[Mapping[str, Any]], bool | None]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<word>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)
  | (?P<op><>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<bad>\S)
)""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE", "MEMBER", "OF", "LIKE"})


class WhereSyntaxError(ValueError):
    """The where clause does not parse; the message names what is wrong (Bullhorn answers 400)."""


class CompiledWhere:
    def __init__(self, root: _Node, paths: frozenset[str]) -> None:
        self._root = root
        #: dotted paths the clause reads, e.g. {"email", "owner.id"} (to reject unknown fields)
        self.paths = paths

    def __call__(self, record: Mapping[str, Any]) -> bool:
        return self._root(record) is True


def compile_where(where: str, *, case_insensitive: bool = True) -> CompiledWhere:
    """`case_insensitive` mirrors SQL Server's default collation, which Bullhorn's database is
    believed to use; the reference marks case-sensitivity of `=` as unverified."""
    parser = _Parser(where, case_insensitive)
    return CompiledWhere(parser.parse(), frozenset(parser.paths))


def _lex(where: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while where[position:].strip():
        match = _TOKEN.match(where, position)
        assert match is not None and match.lastgroup is not None  # the `bad` branch matches any character
        kind, text = match.lastgroup, match.group(match.lastgroup)
        start = match.start(kind)
        if kind == "bad":
            what = "unterminated string literal" if text == "'" else f"unexpected character {text!r}"
            raise WhereSyntaxError(f"where: {what} at position {start}")
        if kind == "word" and text.upper() in _KEYWORDS:
            kind, text = "keyword", text.upper()
        tokens.append((kind, text, start))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, where: str, case_insensitive: bool) -> None:
        self.where = where
        self.case_insensitive = case_insensitive
        self.tokens = _lex(where)
        self.at = 0
        self.paths: set[str] = set()

    def parse(self) -> _Node:
        if not self.tokens:
            raise WhereSyntaxError("where: the clause is empty")
        node = self._or()
        if self.at < len(self.tokens):
            raise self._unexpected("expected AND, OR or the end")
        return node

    def _peek(self, text: str | None = None) -> bool:
        if self.at >= len(self.tokens):
            return False
        kind, value, _ = self.tokens[self.at]
        return text is None or (value == text and kind in ("keyword", "op", "punct"))

    def _accept(self, text: str) -> bool:
        if self._peek(text):
            self.at += 1
            return True
        return False

    def _expect(self, text: str) -> None:
        if not self._accept(text):
            raise self._unexpected(f"expected {text}")

    def _unexpected(self, hint: str) -> WhereSyntaxError:
        if self.at >= len(self.tokens):
            return WhereSyntaxError(f"where: unexpected end of clause ({hint})")
        _, text, position = self.tokens[self.at]
        return WhereSyntaxError(f"where: unexpected {text!r} at position {position} ({hint})")

    def _or(self) -> _Node:
        nodes = [self._and()]
        while self._accept("OR"):
            nodes.append(self._and())
        return nodes[0] if len(nodes) == 1 else _any_of(nodes)

    def _and(self) -> _Node:
        nodes = [self._not()]
        while self._accept("AND"):
            nodes.append(self._not())
        return nodes[0] if len(nodes) == 1 else _all_of(nodes)

    def _not(self) -> _Node:
        if self._accept("NOT"):
            inner = self._not()
            return lambda record: None if (value := inner(record)) is None else not value
        if self._accept("("):
            node = self._or()
            self._expect(")")
            return node
        return self._comparison()

    def _comparison(self) -> _Node:
        if self.at >= len(self.tokens) or self.tokens[self.at][0] != "word":
            raise self._unexpected("expected a field name")
        path = self.tokens[self.at][1]
        self.at += 1
        self.paths.add(path)
        if self._accept("IS"):
            negate = self._accept("NOT")
            self._expect("NULL")
            return lambda record: (_resolve(record, path) is None) != negate
        negate = self._accept("NOT")
        if self._accept("IN"):
            self._expect("(")
            values = [self._literal()]
            while self._accept(","):
                values.append(self._literal())
            self._expect(")")
            node = _in(path, values, self.case_insensitive)
            return node if not negate else (lambda record: None if (v := node(record)) is None else not v)
        if negate:
            raise self._unexpected("expected IN after NOT")
        if self.at < len(self.tokens) and self.tokens[self.at][0] == "op":
            op = self.tokens[self.at][1]
            self.at += 1
            literal = self._literal()
            return lambda record: _compare(_resolve(record, path), op, literal, self.case_insensitive)
        if self._peek("MEMBER") or self._peek("LIKE"):
            raise self._unexpected("MEMBER OF and LIKE are not supported by the sandbox")
        raise self._unexpected("expected an operator, IN or IS")

    def _literal(self) -> _Value:
        if self.at >= len(self.tokens):
            raise self._unexpected("expected a value")
        kind, text, _ = self.tokens[self.at]
        self.at += 1
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "keyword" and text in ("TRUE", "FALSE"):
            return text == "TRUE"
        self.at -= 1
        if kind == "keyword" and text == "NULL":
            raise self._unexpected("compare with NULL using IS NULL")
        raise self._unexpected("expected a value")


def _any_of(nodes: list[_Node]) -> _Node:
    def evaluate(record: Mapping[str, Any]) -> bool | None:
        results = [node(record) for node in nodes]
        return True if True in results else None if None in results else False

    return evaluate


def _all_of(nodes: list[_Node]) -> _Node:
    def evaluate(record: Mapping[str, Any]) -> bool | None:
        results = [node(record) for node in nodes]
        return False if False in results else None if None in results else True

    return evaluate


def _in(path: str, values: list[_Value], case_insensitive: bool) -> _Node:
    def evaluate(record: Mapping[str, Any]) -> bool | None:
        stored = _resolve(record, path)
        results = [_compare(stored, "=", value, case_insensitive) for value in values]
        return True if True in results else None if None in results else False

    return evaluate


def _resolve(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _compare(stored: Any, op: str, literal: _Value, case_insensitive: bool) -> bool | None:
    pair = _comparable(stored, literal, case_insensitive)
    if pair is None:
        return None
    left, right = pair
    if op == "=":
        return bool(left == right)
    if op in ("<>", "!="):
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == ">":
        return bool(left > right)
    if op == "<=":
        return bool(left <= right)
    return bool(left >= right)


def _comparable(stored: Any, literal: _Value, case_insensitive: bool) -> tuple[Any, Any] | None:
    """Both sides in one comparable type, or None when SQL would not compare them (unknown)."""
    if stored is None or isinstance(stored, Mapping | list):
        return None
    if isinstance(stored, str) and isinstance(literal, str):
        # SQL Server pads with spaces before comparing, so trailing spaces never count
        left, right = stored.rstrip(" "), literal.rstrip(" ")
        return (left.casefold(), right.casefold()) if case_insensitive else (left, right)
    if isinstance(stored, bool) or isinstance(literal, bool):
        numbers = [int(side) if isinstance(side, bool) else side for side in (stored, literal)]
        return (numbers[0], numbers[1]) if all(isinstance(n, int | float) for n in numbers) else None
    if isinstance(stored, int | float) and isinstance(literal, int | float):
        return stored, literal
    try:
        return float(stored), float(literal)
    except (TypeError, ValueError):
        return None
