"""The sync-state vocabulary of a call (DESIGN §6): the same strings in the store, the API and the console.

A `StrEnum` (a `str` and an `Enum`): `str(SyncState.synced)` and f-strings give the bare value.
"""

from __future__ import annotations

from enum import StrEnum


class SyncState(StrEnum):
    #: the call is known and waits for its first note write (or a settle delay)
    pending = "pending"
    #: a worker holds the call and is writing its note right now
    syncing = "syncing"
    #: the note in Bullhorn matches the call; nothing left to do
    synced = "synced"
    #: a write failed for a passing reason (429, 5xx, timeout) and will be tried again
    retrying = "retrying"
    #: a write was refused for a reason a person must fix; the explanation says what
    failed = "failed"
    #: no Bullhorn record has the caller's number; kept visible and re-matchable
    unmatched = "unmatched"
    #: gave up after the maximum number of attempts
    dead = "dead"
