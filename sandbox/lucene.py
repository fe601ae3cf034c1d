"""The Lucene classic query subset that Bullhorn's `search/{Entity}` accepts, compiled to a predicate.

Bullhorn points at the Lucene 4.10 classic parser; how it analyses phone fields is undocumented, so
the default analyzer takes the harsh reading (tokens on non-digits) that callers must survive.
Supported: `field:term`, phrases, `field:(…)`, AND/OR/NOT/&&/||/!, +/-, parentheses, ranges,
`*`/`?` wildcards, `^boost` (ignored), backslash escapes, default operator OR.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: (field name, stored or queried value) -> index tokens
Analyzer = Callable[[str, Any], list[str]]
#: a record analysed once: dotted field name -> its tokens in order
Document = Mapping[str, tuple[str, ...]]
_Tokens = Callable[[str], tuple[str, ...]]
_Node = Callable[[_Tokens], bool]

#: separates the values of a multi-valued field so that a phrase cannot span two of them
_GAP = "\x00"
_TERM_END = frozenset('(){}[]^"~:/! \t\r\n\u3000')
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_DIGIT_RUNS = re.compile(r"\d+")
_WORDS = re.compile(r"[^\W_]+")
_SCALARS = frozenset({str, int, bool, float, type(None)})
_MUST, _SHOULD, _MUST_NOT = "must", "should", "must_not"


class LuceneSyntaxError(ValueError):
    """The query does not parse; the message names what is wrong (Bullhorn answers 400)."""


def default_analyzer(phone_fields: frozenset[str]) -> Analyzer:
    """Phones split on non-digits, text lowercased and split on non-alphanumerics, booleans as both spellings."""

    def analyze(field: str, value: Any) -> list[str]:
        if isinstance(value, str):
            if field in phone_fields or ("." in field and field.rpartition(".")[2] in phone_fields):
                return _DIGIT_RUNS.findall(value)
            return _WORDS.findall(value.lower())
        if value is None:
            return []
        if isinstance(value, bool):
            return ["true", "1"] if value else ["false", "0"]
        if isinstance(value, int):
            return [str(value)]
        return analyze(field, str(value))

    return analyze


def analyze_record(record: Mapping[str, Any], analyzer: Analyzer) -> dict[str, tuple[str, ...]]:
    """Every leaf field of `record` (nested dicts as dotted names) with its tokens, to cache per record."""
    document: dict[str, tuple[str, ...]] = {}
    _index_into(document, analyzer, "", record)
    return document


def _index_into(document: dict[str, tuple[str, ...]], analyzer: Analyzer, prefix: str, record: Mapping[str, Any]
                ) -> None:
    for key, value in record.items():
        name = prefix + key
        if value.__class__ in _SCALARS:
            document[name] = tuple(analyzer(name, value))
        elif isinstance(value, Mapping) and not isinstance(value.get("data"), list):
            _index_into(document, analyzer, name + ".", value)
        else:  # a list, or a to-many association as Bullhorn writes it: {"total": n, "data": [...]}
            merged: dict[str, list[str]] = {}
            for element in value["data"] if isinstance(value, Mapping) else value:
                part: dict[str, tuple[str, ...]] = {}
                if isinstance(element, Mapping):
                    _index_into(part, analyzer, name + ".", element)
                else:
                    part[name] = tuple(analyzer(name, element))
                for leaf, tokens in part.items():
                    merged[leaf] = [*merged[leaf], _GAP, *tokens] if leaf in merged else list(tokens)
            document.update((leaf, tuple(tokens)) for leaf, tokens in merged.items())


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
            return document.get(field, ()) if field else _all_tokens(document)

        return self._root(tokens)


def compile_query(query: str, analyzer: Analyzer) -> CompiledQuery:
    parser = _Parser(query, analyzer)
    root = parser.parse()
    return CompiledQuery(root, frozenset(parser.fields), analyzer)


def _all_tokens(document: Document) -> tuple[str, ...]:
    return tuple(token for tokens in document.values() for token in (*tokens, _GAP))


@dataclass(frozen=True)
class _Tok:
    kind: str  # term, phrase, range, lparen, rparen, colon, plus, minus, not, and, or, carat, tilde
    text: str
    pos: int
    end: int
    wild: bool = False
    bounds: tuple[str, str, bool, bool] = ("", "", True, True)


_KEYWORDS = {"AND": "and", "OR": "or", "NOT": "not"}
_PUNCTUATION = {"(": "lparen", ")": "rparen", "+": "plus", "-": "minus", "!": "not", ":": "colon", "^": "carat"}
_RANGE = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^\s\]}]+)\s+TO\s+("(?:[^"\\]|\\.)*"|[^\s\]}]+)\s*([\]}])')


def _lex(query: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
            continue
        if query.startswith(("&&", "||"), i):
            tok = _Tok("and" if char == "&" else "or", query[i : i + 2], i, i + 2)
        elif char in _PUNCTUATION or char == "~":
            tok = _Tok(_PUNCTUATION.get(char, "tilde"), char, i, i + 1)
        elif char == '"':
            tok = _read_quoted(query, i)
        elif char == "/":
            raise _error(query, "regular expression queries (/…/) are not supported by the sandbox", i)
        elif char in "[{":
            tok = _read_range(query, i)
        else:
            tok = _read_term(query, i)
        tokens.append(tok)
        i = tok.end
    return tokens


def _read_quoted(query: str, start: int) -> _Tok:
    out, i = [], start + 1
    while i < len(query) and query[i] != '"':
        if query[i] == "\\" and i + 1 < len(query):
            i += 1
        out.append(query[i])
        i += 1
    if i >= len(query):
        raise _error(query, "unterminated quoted phrase", start)
    return _Tok("phrase", "".join(out), start, i + 1)


def _read_term(query: str, start: int) -> _Tok:
    out, i, wild = [], start, False
    while i < len(query) and query[i] not in _TERM_END and not query.startswith(("&&", "||"), i):
        if query[i] == "\\":
            if i + 1 >= len(query):
                raise _error(query, "the query ends with a lone backslash", i)
            out.append(query[i + 1])
            i += 2
            continue
        wild = wild or query[i] in "*?"
        # \x01 marks an unescaped wildcard so that an escaped \* stays a literal star
        out.append("\x01" + query[i] if query[i] in "*?" else query[i])
        i += 1
    if i == start:
        raise _error(query, f"unexpected {query[i]!r}", i)
    keyword = _KEYWORDS.get(query[start:i])
    if keyword:
        return _Tok(keyword, query[start:i], start, i)
    return _Tok("term", "".join(out), start, i, wild=wild)


def _read_range(query: str, start: int) -> _Tok:
    match = _RANGE.match(query, start + 1)
    if match is None:
        raise _error(query, "a range must read [lower TO upper] or {lower TO upper}", start)

    def bound(raw: str) -> str:
        return re.sub(r"\\(.)", r"\1", raw[1:-1] if raw.startswith('"') else raw).lower()

    low, high = bound(match.group(1)), bound(match.group(2))
    return _Tok("range", "", start, match.end(), bounds=(low, high, query[start] == "[", match.group(3) == "]"))


def _error(query: str, what: str, pos: int) -> LuceneSyntaxError:
    return LuceneSyntaxError(f"Cannot parse '{query}': {what} at position {pos}")


class _Parser:
    def __init__(self, query: str, analyzer: Analyzer) -> None:
        self.query = query
        self.analyzer = analyzer
        self.tokens = _lex(query)
        self.at = 0
        self.fields: set[str] = set()

    def parse(self) -> _Node:
        if not self.tokens:
            raise _error(self.query, "the query is empty", 0)
        node = self._query("")
        if self.at < len(self.tokens):
            raise self._unexpected()
        return node if node is not None else (lambda tokens: False)

    def _peek(self) -> str:
        return self.tokens[self.at].kind if self.at < len(self.tokens) else "eof"

    def _take(self, kind: str) -> _Tok:
        if self._peek() != kind:
            raise self._unexpected(f"expected {kind}")
        self.at += 1
        return self.tokens[self.at - 1]

    def _unexpected(self, hint: str = "") -> LuceneSyntaxError:
        if self.at >= len(self.tokens):
            return _error(self.query, "unexpected end of query" + (f" ({hint})" if hint else ""), len(self.query))
        tok = self.tokens[self.at]
        return _error(self.query, f"unexpected {tok.text or tok.kind!r}" + (f" ({hint})" if hint else ""), tok.pos)

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
            field = "*" if name.wild and name.text == "\x01*" else name.text
            if name.wild and field != "*":
                raise _error(self.query, "a field name cannot hold a wildcard", name.pos)
        if self._peek() == "lparen":
            self.at += 1
            node = self._query(field)
            self._take("rparen")
            self._boost()
            return node
        if field == "*":
            term = self._take("term")
            if term.text != "\x01*":
                raise _error(self.query, "only *:* may use the field *", term.pos)
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
                raise _error(self.query, "a boost must be a number", number.pos)
        if self._peek() == "tilde":
            tilde = self.tokens[self.at].pos
            raise _error(self.query, "fuzzy and proximity queries (~) are not supported by the sandbox", tilde)

    def _term(self, field: str) -> _Node | None:
        kind = self._peek()
        tok = self.tokens[self.at] if kind != "eof" else None
        if tok is None or kind not in ("term", "phrase", "range"):
            raise self._unexpected("expected a term")
        self.at += 1
        self._boost()
        if kind == "range":
            return _range_node(field, *tok.bounds)
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

    def _wildcard(self, field: str, tok: _Tok) -> _Node:
        text = tok.text.lower()
        if text == "\x01*":
            return _any_token(field, lambda token: True)
        if text.startswith("\x01"):
            raise _error(self.query, "'*' or '?' not allowed as first character in WildcardQuery", tok.pos)
        pieces = re.split("(\x01[*?])", text)
        pattern = re.compile("".join({"\x01*": ".*", "\x01?": "."}.get(p, re.escape(p)) for p in pieces), re.DOTALL)
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
    return lambda tokens: any(token != _GAP and test(token) for token in tokens(field))


def _phrase_node(field: str, words: tuple[str, ...]) -> _Node:
    first, size = words[0], len(words)

    def evaluate(tokens: _Tokens) -> bool:
        have = tokens(field)
        return any(have[i : i + size] == words for i, token in enumerate(have) if token == first)

    return evaluate


def _range_node(field: str, low: str, high: str, include_low: bool, include_high: bool) -> _Node:
    if low == "*" and high == "*":
        return _any_token(field, lambda token: True)
    if all(bound == "*" or _NUMBER.fullmatch(bound) for bound in (low, high)):
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
