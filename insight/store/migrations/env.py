"""Alembic environment: runs on the connection `insight.store.migrate` hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from insight.store.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations with `python -m insight.store upgrade`, which passes the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    compare_type=True,
    # SQLite can only ALTER a table by copying it; batch mode does that for later revisions.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
