"""`{call_id:call_id}` in route paths: an Aircall call id, digits only, small enough for the store.

Starlette's `int` convertor takes any run of digits, and a 20-digit id reached the database as an
integer no column can hold: a 500 (SQLite raises OverflowError, PostgreSQL an out-of-range error).
Ids that cannot exist now match no route, so they answer 404 like any unknown call.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

#: 18 digits always fit a signed 64-bit column (2**63 - 1 has 19)
MAX_DIGITS = 18
MAX_CALL_ID = 10**MAX_DIGITS - 1
#: the path parameter to write in routes: f"/api/calls/{CALL_ID}"
CALL_ID = "{call_id:call_id}"


class CallIdConvertor(Convertor[int]):
    regex = f"[0-9]{{1,{MAX_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value <= MAX_CALL_ID:
            raise ValueError(f"{value} is not an Aircall call id")
        return str(value)


# Registration is idempotent (a dict entry), and must precede compiling any route that uses it.
register_url_convertor("call_id", CallIdConvertor())
