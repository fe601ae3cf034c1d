"""The Lucene classic query subset that Bullhorn's `search/{Entity}` accepts, compiled to a predicate.

Supported: `field:term`, phrases, `field:(…)`, AND/OR/NOT/&&/||/!, +/-, parentheses, ranges,
`*`/`?` wildcards, `^boost` (ignored), backslash escapes, default operator OR. Tokenising lives in
`sandbox.lucene_lexer`, the analyzers in `sandbox.lucene_analysis`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.lucene_analysis import GAP, Analyzer, Document, all_tokens, analyze_record, default_analyzer
from sandbox.lucene_lexer import WILD, LuceneSyntaxError, Token, lex, syntax_error

__all__ = [
    "Analyzer",
    "CompiledQuery",
    "Document",
    "LuceneSyntaxError",
    "analyze_record",
    "compile_query",
    "default_analyzer",
]

_Tokens = Callable[[str], tuple[str, ...]]
_Node = Callable[[_Tokens], bool]

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_MUST, _SHOULD, _MUST_NOT = "must", "should", "must_not"
#: a term that is a lone unescaped `*`
_ANY = WILD + "*"


class CompiledQuery:
    """A parsed query: call it on a record, or use `matches_document` on an `analyze_record` result."""

    def __init__(self, root: _Node, fields: frozenset[str], analyzer: Analyzer) -> None:
        self._root = root
        self._analyzer = analyzer
        #: the explicit field names the query reads (to reject unknown fields)
        self.fields = fields

    def __call__(self, record: Mapping[str, Any]) -> bool:
        return self.matches_document(analyze_record(record, self._analyzer))

    def matches_document(self, document: Document) -> bool:
        def tokens(field: str) -> tuple[str, ...]:
            return document.get(field, ()) if field else all_tokens(document)

        return self._root(tokens)


def compile_query(query: str, analyzer: Analyzer, *, text_ranges: frozenset[str] = frozenset()) -> CompiledQuery:
    """`text_ranges`: fields whose ranges compare text even between numbers (`"10000" < "1001"`)."""
    parser = _Parser(query, analyzer, text_ranges)
    root = parser.parse()
    return CompiledQuery(root, frozenset(parser.fields), analyzer)


class _Parser:
    def __init__(self, query: str, analyzer: Analyzer, text_ranges: frozenset[str]) -> None:
        self.query = query
        self.analyzer = analyzer
        self.text_ranges = text_ranges
        self.tokens = lex(query)
        self.at = 0
        self.fields: set[str] = set()

    def parse(self) -> _Node:
        if not self.tokens:
            raise syntax_error(self.query, "the query is empty", 0)
        node = self._query("")
        if self.at < len(self.tokens):
            raise self._unexpected()
        return node if node is not None else (lambda tokens: False)

    def _peek(self) -> str:
        return self.tokens[self.at].kind if self.at < len(self.tokens) else "eof"

    def _take(self, kind: str) -> Token:
        if self._peek() != kind:
            raise self._unexpected(f"expected {kind}")
        self.at += 1
        return self.tokens[self.at - 1]

    def _unexpected(self, hint: str = "") -> LuceneSyntaxError:
        suffix = f" ({hint})" if hint else ""
        if self.at >= len(self.tokens):
            return syntax_error(self.query, "unexpected end of query" + suffix, len(self.query))
        tok = self.tokens[self.at]
        return syntax_error(self.query, f"unexpected {tok.text or tok.kind!r}" + suffix, tok.pos)

    def _query(self, field: str) -> _Node | None:
        # Lucene classic with default operator OR: AND makes both neighbours required, OR changes nothing
        clauses: list[tuple[str, _Node | None]] = []
        while True:
            conj = self._peek() if clauses and self._peek() in ("and", "or") else ""
            if conj:
                self.at += 1
            elif clauses and self._peek() in ("rparen", "eof"):
                break
            mods = self._peek() if self._peek() in ("plus", "minus", "not") else ""
            if mods:
                self.at += 1
            node = self._clause(field)
            if conj == "and" and clauses and clauses[-1][0] != _MUST_NOT:
                clauses[-1] = (_MUST, clauses[-1][1])
            prohibited = mods in ("minus", "not")
            required = mods == "plus" or (conj == "and" and not prohibited)
            clauses.append((_MUST_NOT if prohibited else _MUST if required else _SHOULD, node))
        kept = [(occur, node) for occur, node in clauses if node is not None]
        # as in Lucene, a group whose every term the analyzer dropped vanishes from its parent
        return _boolean(kept) if kept else None

    def _clause(self, field: str) -> _Node | None:
        if self._peek() == "term" and self.at + 1 < len(self.tokens) and self.tokens[self.at + 1].kind == "colon":
            name = self._take("term")
            self.at += 1
            field = "*" if name.wild and name.text == _ANY else name.text
            if name.wild and field != "*":
                raise syntax_error(self.query, "a field name cannot hold a wildcard", name.pos)
        if self._peek() == "lparen":
            self.at += 1
            node = self._query(field)
            self._take("rparen")
            self._boost()
            return node
        if field == "*":
            term = self._take("term")
            if term.text != _ANY:
                raise syntax_error(self.query, "only *:* may use the field *", term.pos)
            self._boost()
            return lambda tokens: True
        if field:
            self.fields.add(field)
        return self._term(field)

    def _boost(self) -> None:
        if self._peek() == "carat":
            self.at += 1
            number = self._take("term")
            if not _NUMBER.fullmatch(number.text):
                raise syntax_error(self.query, "a boost must be a number", number.pos)
        if self._peek() == "tilde":
            tilde = self.tokens[self.at].pos
            raise syntax_error(self.query, "fuzzy and proximity queries (~) are not supported by the sandbox", tilde)

    def _term(self, field: str) -> _Node | None:
        kind = self._peek()
        tok = self.tokens[self.at] if kind != "eof" else None
        if tok is None or kind not in ("term", "phrase", "range"):
            raise self._unexpected("expected a term")
        self.at += 1
        self._boost()
        if kind == "range":
            return _range_node(field, *tok.bounds, as_text=field in self.text_ranges)
        if tok.wild:
            return self._wildcard(field, tok)
        # an unquoted term the analyzer splits (415-555-0123) becomes a phrase, as with Lucene's
        # autoGeneratePhraseQueries; 4.x's default would OR the pieces and match half the index
        words = tuple(self.analyzer(field, tok.text))
        if not words:
            return None
        if len(words) == 1:
            word = words[0]
            return lambda tokens: word in tokens(field)
        return _phrase_node(field, words)

    def _wildcard(self, field: str, tok: Token) -> _Node:
        text = tok.text.lower()
        if text == _ANY:
            return _any_token(field, lambda token: True)
        if text.startswith(WILD):
            raise syntax_error(self.query, "'*' or '?' not allowed as first character in WildcardQuery", tok.pos)
        pieces = re.split(f"({WILD}[*?])", text)
        pattern = re.compile("".join({_ANY: ".*", WILD + "?": "."}.get(p, re.escape(p)) for p in pieces), re.DOTALL)
        return _any_token(field, lambda token: pattern.fullmatch(token) is not None)


def _boolean(clauses: list[tuple[str, _Node]]) -> _Node:
    must = [node for occur, node in clauses if occur == _MUST]
    should = [node for occur, node in clauses if occur == _SHOULD]
    must_not = [node for occur, node in clauses if occur == _MUST_NOT]
    if not must and not should:
        return lambda tokens: False  # Lucene: a purely negative query matches nothing

    def evaluate(tokens: _Tokens) -> bool:
        if not all(node(tokens) for node in must) or any(node(tokens) for node in must_not):
            return False
        return bool(must) or any(node(tokens) for node in should)

    return evaluate


def _any_token(field: str, test: Callable[[str], bool]) -> _Node:
    return lambda tokens: any(token != GAP and test(token) for token in tokens(field))


def _phrase_node(field: str, words: tuple[str, ...]) -> _Node:
    first, size = words[0], len(words)

    def evaluate(tokens: _Tokens) -> bool:
        have = tokens(field)
        return any(have[i : i + size] == words for i, token in enumerate(have) if token == first)

    return evaluate


def _range_node(field: str, low: str, high: str, include_low: bool, include_high: bool, *, as_text: bool,
                ) -> _Node:
    if low == "*" and high == "*":
        return _any_token(field, lambda token: True)
    if not as_text and all(bound == "*" or _NUMBER.fullmatch(bound) for bound in (low, high)):
        lo = float("-inf") if low == "*" else float(low)
        hi = float("inf") if high == "*" else float(high)

        def inside_numbers(token: str) -> bool:
            if not _NUMBER.fullmatch(token):
                return False
            key = float(token)
            return (lo < key or (include_low and key == lo)) and (key < hi or (include_high and key == hi))

        return _any_token(field, inside_numbers)

    def inside_terms(token: str) -> bool:
        above = low == "*" or low < token or (include_low and token == low)
        return above and (high == "*" or token < high or (include_high and token == high))

    return _any_token(field, inside_terms)
