"""phone_index: a national-digits key beside E.164, and a re-scan to fill it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

A stored value the default region cannot read (`020 7946 0958` on a US tenant) is a number only for a
caller of some other country (DESIGN §9): the index now keeps such values under their digits as
typed (`national`; `e164` stays empty unless the default region reads a merely possible number in
it). Indexes built before had skipped them, so the keeper is made
to subscribe afresh and re-scan: until that scan is whole the index is not ready and lookups search
Bullhorn live, which finds these values too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("phone_index") as batch:
        batch.alter_column("e164", existing_type=sa.String(32), nullable=True)
        batch.add_column(sa.Column("national", sa.String(32)))
        batch.create_index("ix_phone_index_national", ["national"])
    # no subscription: the keeper's next round re-subscribes and starts a new scan (insight.worker.index_keeper)
    op.execute(sa.text("UPDATE index_feed SET subscription_id = NULL"))


def downgrade() -> None:
    # national rows have no E.164 to keep; the older code does not index those values at all
    op.execute(sa.text("DELETE FROM phone_index WHERE e164 IS NULL"))
    with op.batch_alter_table("phone_index") as batch:
        batch.drop_index("ix_phone_index_national")
        batch.drop_column("national")
        batch.alter_column("e164", existing_type=sa.String(32), nullable=False)
