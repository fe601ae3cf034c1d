"""bullhorn_usage: Bullhorn requests by month and purpose (the API budget meter)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "bullhorn_usage",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "purpose", name="pk_bullhorn_usage"),
    )


def downgrade() -> None:
    op.drop_table("bullhorn_usage")
