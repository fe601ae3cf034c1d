"""phone index: indexed_records, phone_index, index_state, index_feed

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "indexed_records",
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("record_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text()),
        sa.Column("company", sa.Text()),
        sa.Column("status", sa.String(100)),
        sa.Column("date_last_modified", sa.BigInteger(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.Column("phones_json", sa.JSON(), nullable=False),
        sa.Column("scan", sa.Integer(), nullable=False),
        sa.Column("indexed_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "record_id", name="pk_indexed_records"),
    )
    op.create_table(
        "phone_index",
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("record_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("e164", sa.String(32), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "record_id", "field", name="pk_phone_index"),
    )
    op.create_index("ix_phone_index_e164", "phone_index", ["e164"])
    op.create_table(
        "index_state",
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("scan", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("indexed", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer()),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("started_at", _ts()),
        sa.Column("built_at", _ts()),
        sa.PrimaryKeyConstraint("entity", name="pk_index_state"),
    )
    feed = op.create_table(
        "index_feed",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("subscription_id", sa.String(100)),
        sa.Column("subscribed_at", _ts()),
        sa.Column("scan", sa.Integer(), nullable=False),
        sa.Column("last_request_id", sa.BigInteger(), nullable=False),
        sa.Column("last_poll_at", _ts()),
        sa.Column("last_event_at", _ts()),
        sa.Column("last_batch_size", sa.Integer(), nullable=False),
        sa.Column("events_applied", sa.BigInteger(), nullable=False),
        sa.Column("locked_by", sa.String(128)),
        sa.Column("locked_until", _ts()),
        sa.PrimaryKeyConstraint("id", name="pk_index_feed"),
        sa.CheckConstraint("id = 1", name="ck_index_feed_single_row"),
    )
    # The row exists from the start, so the keeper's lease can be taken before anything was built.
    op.bulk_insert(feed, [{"id": 1, "scan": 0, "last_request_id": 0, "last_batch_size": 0, "events_applied": 0}])


def downgrade() -> None:
    op.drop_table("index_feed")
    op.drop_table("index_state")
    op.drop_index("ix_phone_index_e164", table_name="phone_index")
    op.drop_table("phone_index")
    op.drop_table("indexed_records")
