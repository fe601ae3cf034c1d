"""Values fitted to their columns: the one place that makes outside text storable (DESIGN §14).

Aircall and Bullhorn text reaches the store through the intake (raw digits, direction, line name)
and the worker (the reduced call, Bullhorn's explanations). PostgreSQL refuses a string longer than
its `varchar(n)` and any NUL character in text, SQLite takes both, so without this a long line name
or a NUL fails every write of one call on PostgreSQL only, and the call is stuck. Every write of
such values goes through `fit`: strings are cut to their column's length and lose their NULs,
JSON values lose NULs in every string they hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, String, Table

NUL = "\x00"


def fit(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` (column name → value) with every string fitted to its column of `table`."""
    fitted: dict[str, Any] = {}
    for name, value in values.items():
        column = table.c.get(name)
        column_type = column.type if column is not None else None
        if isinstance(value, str):
            length = column_type.length if isinstance(column_type, String) else None
            fitted[name] = fit_text(value, length)
        elif isinstance(column_type, JSON) and isinstance(value, dict | list):
            fitted[name] = _without_nul(value)
        else:
            fitted[name] = value
    return fitted


def fit_text(value: str, length: int | None) -> str:
    text = value.replace(NUL, "") if NUL in value else value
    return text[:length] if length is not None else text


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(NUL, "") if NUL in value else value
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value
