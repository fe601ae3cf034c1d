"""aircall_hold: the Aircall rate-limit hold, shared by every process

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-03

Aircall's rate limit is per company (DESIGN §15): a 429 seen by `web` pushing a card must also hold
the worker's call listing and the doctor, so the hold lives in the store every process shares.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    hold = op.create_table(
        "aircall_hold",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("resume_at", sa.Float()),
        sa.Column("held_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_aircall_hold"),
        sa.CheckConstraint("id = 1", name="ck_aircall_hold_single_row"),
    )
    # the row exists from the start: a hold is one conditional UPDATE, never an insert race
    op.bulk_insert(hold, [{"id": 1}])


def downgrade() -> None:
    op.drop_table("aircall_hold")
