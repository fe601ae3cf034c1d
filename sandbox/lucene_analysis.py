"""How the Bullhorn fake turns records and query terms into index tokens for `sandbox.lucene`.

Bullhorn points at the Lucene 4.10 classic parser; how it analyses phone fields is undocumented, so
the default analyzer takes the harsh reading (tokens on non-digits) that callers must survive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

#: (field name, stored or queried value) -> index tokens
Analyzer = Callable[[str, Any], list[str]]
#: a record analysed once: dotted field name -> its tokens in order
Document = Mapping[str, tuple[str, ...]]

#: separates the values of a multi-valued field so that a phrase cannot span two of them
GAP = "\x00"
_DIGIT_RUNS = re.compile(r"\d+")
_WORDS = re.compile(r"[^\W_]+")
_SCALARS = frozenset({str, int, bool, float, type(None)})


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


def all_tokens(document: Document) -> tuple[str, ...]:
    """Every field's tokens in one stream, for an unqualified term; fields are kept apart by `GAP`."""
    return tuple(token for tokens in document.values() for token in (*tokens, GAP))


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
                    merged[leaf] = [*merged[leaf], GAP, *tokens] if leaf in merged else list(tokens)
            document.update((leaf, tuple(tokens)) for leaf, tokens in merged.items())
