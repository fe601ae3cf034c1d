"""backfill: calls.source and backfill_jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("source", sa.String(16)))
    op.create_table(
        "backfill_jobs",
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("window_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("taken_in", sa.Integer(), nullable=False),
        sa.Column("known", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("watermark", sa.BigInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_backfill_jobs"),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name="ck_backfill_jobs_status"),
    )
    op.create_index("ix_backfill_jobs_kind_created_at", "backfill_jobs", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_backfill_jobs_kind_created_at", table_name="backfill_jobs")
    op.drop_table("backfill_jobs")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("source")
