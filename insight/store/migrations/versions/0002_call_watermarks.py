"""calls: event watermarks, rematch, last note body

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("last_event_id", sa.BigInteger()))
        batch.add_column(sa.Column("synced_event_id", sa.BigInteger()))
        batch.add_column(sa.Column("rematch", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("synced_body_json", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("synced_body_json")
        batch.drop_column("rematch")
        batch.drop_column("synced_event_id")
        batch.drop_column("last_event_id")
