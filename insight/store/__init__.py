"""The store: SQLAlchemy over SQLite (default) or PostgreSQL, schema by Alembic migrations.

`Store(database_url)` is the one object a process builds; `upgrade(database_url)` (or
`Store.migrate()`) brings the schema to head and is safe to run from several processes at once.
Operators: `python -m insight.store upgrade|current`.
"""

from __future__ import annotations

from insight.store.core import Store
from insight.store.engine import StoreError, StoreUnavailable
from insight.store.events import StoredEvent
from insight.store.migrate import current_revision, head_revision, migrate, upgrade
from insight.store.vault import StoreVault

__all__ = [
    "Store",
    "StoreError",
    "StoreUnavailable",
    "StoreVault",
    "StoredEvent",
    "current_revision",
    "head_revision",
    "migrate",
    "upgrade",
]
