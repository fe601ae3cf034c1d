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


#: what each state means, in words for operators who do not know the vocabulary
MEANINGS: dict[SyncState, str] = {
    SyncState.pending: "waiting for the call to end or for the first note write",
    SyncState.syncing: "a worker is writing the note right now",
    SyncState.synced: "the note in Bullhorn is up to date",
    SyncState.retrying: "Bullhorn was busy or down; the write will be tried again by itself",
    SyncState.failed: "Bullhorn refused the write; a person must fix the cause, then press Retry",
    SyncState.unmatched: "no Bullhorn record has this number; add it to a record, then press Retry",
    SyncState.dead: "gave up after too many attempts; fix the cause, then press Retry",
}

#: states a person must act on (the worker will not move them by itself)
NEEDS_A_PERSON = frozenset({SyncState.failed, SyncState.dead, SyncState.unmatched})

#: states a call ends a sync attempt in (counted on the console's header)
SETTLED = (SyncState.synced, SyncState.retrying, SyncState.failed, SyncState.unmatched, SyncState.dead)
