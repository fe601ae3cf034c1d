"""calls.ai_json: the AI insights fetched from Aircall's REST API, and the write-once bookkeeping

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

An AI event that arrives without its content is completed from `GET /v1/calls/{id}/{kind}` once;
the answer is kept here so a later sync of the same call does not ask Aircall again. In write-once
mode (CALLBRIDGE_NOTE_MODE=once) it also keeps which events the one write covered and the events
that arrived after it ("late"), and the note's AI sections for the console.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("ai_json", sa.JSON(none_as_null=True)))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("ai_json")
