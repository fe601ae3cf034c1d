"""calls: an index by number and start, for the card's context

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-03

The card's context (DESIGN §13) reads, as the phone rings, the latest calls with the caller's number
and the calls with it still in progress: both look calls up by `phone_e164`, newest `started_at` first.
"""

from __future__ import annotations

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_calls_phone_e164_started_at", "calls", ["phone_e164", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_phone_e164_started_at", table_name="calls")
