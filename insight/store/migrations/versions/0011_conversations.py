"""conversations and conversation_messages: SMS logged per person, per line, per UTC day

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

_STATES = "'pending', 'syncing', 'synced', 'retrying', 'failed', 'unmatched', 'dead'"


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", _id(), autoincrement=True),
        sa.Column("line_id", sa.String(32), nullable=False),
        sa.Column("line_name", sa.String(200)),
        sa.Column("line_digits", sa.String(64)),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("phone_e164", sa.String(32)),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("explanation", sa.Text()),
        sa.Column("match_json", sa.JSON()),
        sa.Column("note_id", sa.BigInteger()),
        sa.Column("note_person_entity", sa.String(32)),
        sa.Column("note_person_id", sa.BigInteger()),
        sa.Column("action", sa.String(100)),
        sa.Column("write_intent_at", sa.DateTime(timezone=True)),
        sa.Column("synced_body_json", sa.JSON()),
        sa.Column("last_message_id", sa.BigInteger()),
        sa.Column("synced_message_id", sa.BigInteger()),
        sa.Column("rematch", sa.Boolean(), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("locked_by", sa.String(128)),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.UniqueConstraint("line_id", "number", "day", name="uq_conversations_line_id_number_day"),
        sa.CheckConstraint(f"status IN ({_STATES})", name="ck_conversations_status"),
    )
    op.create_index("ix_conversations_phone_e164", "conversations", ["phone_e164"])
    op.create_index("ix_conversations_status_next_attempt_at", "conversations", ["status", "next_attempt_at"])
    op.create_index("ix_conversations_created_at_id", "conversations", ["created_at", "id"])
    op.create_table(
        "conversation_messages",
        sa.Column("id", _id(), autoincrement=True),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(320)),
        sa.Column("agent_email", sa.String(320)),
        sa.Column("body", sa.Text()),
        sa.Column("media_json", sa.JSON()),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_messages"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name="fk_conversation_messages_conversation_id_conversations"),
        sa.UniqueConstraint("dedupe_key", name="uq_conversation_messages_dedupe_key"),
    )
    op.create_index("ix_conversation_messages_conversation_id", "conversation_messages", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("conversation_messages")
    op.drop_table("conversations")
