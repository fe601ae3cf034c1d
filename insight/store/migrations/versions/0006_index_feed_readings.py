"""index_feed: a read in flight (re-read only after our own failed read), and why the index is off

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("index_feed") as batch:
        batch.add_column(sa.Column("read_pending", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("off_reason", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("index_feed") as batch:
        batch.drop_column("off_reason")
        batch.drop_column("read_pending")
