"""Splits a Lucene classic query into tokens for the parser in `sandbox.lucene`.

Terms keep their backslash escapes resolved; an unescaped `*`/`?` is marked with `WILD` in front so
the parser can tell it from an escaped literal one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: put before an unescaped wildcard character in a term's text
WILD = "\x01"
_TERM_END = frozenset('(){}[]^"~:/! \t\r\n\u3000')
_KEYWORDS = {"AND": "and", "OR": "or", "NOT": "not"}
_PUNCTUATION = {"(": "lparen", ")": "rparen", "+": "plus", "-": "minus", "!": "not", ":": "colon", "^": "carat"}
_RANGE = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^\s\]}]+)\s+TO\s+("(?:[^"\\]|\\.)*"|[^\s\]}]+)\s*([\]}])')


class LuceneSyntaxError(ValueError):
    """The query does not parse; the message names what is wrong (Bullhorn answers 400)."""


@dataclass(frozen=True)
class Token:
    kind: str  # term, phrase, range, lparen, rparen, colon, plus, minus, not, and, or, carat, tilde
    text: str
    pos: int
    end: int
    wild: bool = False
    bounds: tuple[str, str, bool, bool] = ("", "", True, True)


def syntax_error(query: str, what: str, pos: int) -> LuceneSyntaxError:
    return LuceneSyntaxError(f"Cannot parse '{query}': {what} at position {pos}")


def lex(query: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
            continue
        if query.startswith(("&&", "||"), i):
            tok = Token("and" if char == "&" else "or", query[i : i + 2], i, i + 2)
        elif char in _PUNCTUATION or char == "~":
            tok = Token(_PUNCTUATION.get(char, "tilde"), char, i, i + 1)
        elif char == '"':
            tok = _read_quoted(query, i)
        elif char == "/":
            raise syntax_error(query, "regular expression queries (/…/) are not supported by the sandbox", i)
        elif char in "[{":
            tok = _read_range(query, i)
        else:
            tok = _read_term(query, i)
        tokens.append(tok)
        i = tok.end
    return tokens


def _read_quoted(query: str, start: int) -> Token:
    out, i = [], start + 1
    while i < len(query) and query[i] != '"':
        if query[i] == "\\" and i + 1 < len(query):
            i += 1
        out.append(query[i])
        i += 1
    if i >= len(query):
        raise syntax_error(query, "unterminated quoted phrase", start)
    return Token("phrase", "".join(out), start, i + 1)


def _read_term(query: str, start: int) -> Token:
    out, i, wild = [], start, False
    while i < len(query) and query[i] not in _TERM_END and not query.startswith(("&&", "||"), i):
        if query[i] == "\\":
            if i + 1 >= len(query):
                raise syntax_error(query, "the query ends with a lone backslash", i)
            out.append(query[i + 1])
            i += 2
            continue
        wild = wild or query[i] in "*?"
        # the WILD mark keeps an escaped \* a literal star
        out.append(WILD + query[i] if query[i] in "*?" else query[i])
        i += 1
    if i == start:
        raise syntax_error(query, f"unexpected {query[i]!r}", i)
    keyword = _KEYWORDS.get(query[start:i])
    if keyword:
        return Token(keyword, query[start:i], start, i)
    return Token("term", "".join(out), start, i, wild=wild)


def _read_range(query: str, start: int) -> Token:
    match = _RANGE.match(query, start + 1)
    if match is None:
        raise syntax_error(query, "a range must read [lower TO upper] or {lower TO upper}", start)

    def bound(raw: str) -> str:
        return re.sub(r"\\(.)", r"\1", raw[1:-1] if raw.startswith('"') else raw).lower()

    low, high = bound(match.group(1)), bound(match.group(2))
    return Token("range", "", start, match.end(), bounds=(low, high, query[start] == "[", match.group(3) == "]"))
