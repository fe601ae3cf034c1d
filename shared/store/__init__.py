"""The store: SQLAlchemy over SQLite (default) or PostgreSQL, schema by Alembic migrations.

`Store(database_url)` is the one object a process builds; `upgrade(database_url)` (or
`Store.migrate()`) brings the schema to head and is safe to run from several processes at once.
Operators: `python -m shared.store upgrade|current`.
"""

from __future__ import annotations

from shared.store.core import Store
from shared.store.engine import StoreError, StoreUnavailable
from shared.store.events import StoredEvent, event_dedupe_key
from shared.store.migrate import current_revision, head_revision, migrate, upgrade
from shared.store.vault import StoreVault

__all__ = [
    "Store",
    "StoreError",
    "StoreUnavailable",
    "StoreVault",
    "StoredEvent",
    "current_revision",
    "event_dedupe_key",
    "head_revision",
    "migrate",
    "upgrade",
]
