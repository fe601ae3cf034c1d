"""events, calls, attempts and the Bullhorn session row

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from tables.py: a revision must keep creating the schema it
# created on the day it was written.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SYNC_STATES = ("pending", "syncing", "synced", "retrying", "failed", "unmatched", "dead")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("call_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("event_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("received_at", _ts(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("dedupe_key", name="uq_events_dedupe_key"),
    )
    op.create_index("ix_events_call_id", "events", ["call_id"])

    op.create_table(
        "calls",
        sa.Column("call_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("direction", sa.String(16)),
        sa.Column("call_type", sa.String(16)),
        sa.Column("agent_email", sa.String(320)),
        sa.Column("agent_id", sa.BigInteger()),
        sa.Column("number_name", sa.String(200)),
        sa.Column("raw_digits", sa.String(64)),
        sa.Column("phone_e164", sa.String(32)),
        sa.Column("started_at", _ts()),
        sa.Column("answered_at", _ts()),
        sa.Column("ended_at", _ts()),
        sa.Column("is_over", sa.Boolean(), nullable=False),
        sa.Column("state_json", sa.JSON(), nullable=False),
        sa.Column("match_json", sa.JSON()),
        sa.Column("flags_json", sa.JSON(), nullable=False),
        sa.Column("card_pushed_at", _ts()),
        sa.Column("card_status", sa.String(32)),
        sa.Column("note_id", sa.BigInteger()),
        sa.Column("note_person_entity", sa.String(32)),
        sa.Column("note_person_id", sa.BigInteger()),
        sa.Column("action", sa.String(100)),
        sa.Column("synced_body_hash", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("explanation", sa.Text()),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _ts()),
        sa.Column("write_intent_at", _ts()),
        sa.Column("locked_by", sa.String(128)),
        sa.Column("locked_until", _ts()),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_calls"),
        sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in SYNC_STATES)})", name="ck_calls_status"),
    )
    op.create_index("ix_calls_next_attempt_at", "calls", ["next_attempt_at"])
    op.create_index("ix_calls_status_next_attempt_at", "calls", ["status", "next_attempt_at"])
    op.create_index("ix_calls_updated_at_call_id", "calls", ["updated_at", "call_id"])

    op.create_table(
        "attempts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("finished_at", _ts()),
        sa.Column("request_summary", sa.Text()),
        sa.Column("status_code", sa.Integer()),
        sa.Column("outcome", sa.String(16)),
        sa.Column("error", sa.Text()),
        sa.Column("explanation", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_attempts"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.call_id"], name="fk_attempts_call_id_calls", ondelete="CASCADE"),
    )
    op.create_index("ix_attempts_call_id", "attempts", ["call_id"])

    session = op.create_table(
        "bullhorn_session",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rest_token", sa.Text()),
        sa.Column("rest_url", sa.Text()),
        sa.Column("refresh_token", sa.Text()),
        sa.Column("ats_url", sa.Text()),
        sa.Column("oauth_url", sa.Text()),
        sa.Column("expires_at", _ts()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _ts()),
        sa.Column("lock_owner", sa.String(128)),
        sa.Column("lock_until", _ts()),
        sa.PrimaryKeyConstraint("id", name="pk_bullhorn_session"),
        sa.CheckConstraint("id = 1", name="ck_bullhorn_session_single_row"),
    )
    # The row exists from the start so the refresh lock can be taken before any session is saved.
    op.bulk_insert(session, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("bullhorn_session")
    op.drop_index("ix_attempts_call_id", table_name="attempts")
    op.drop_table("attempts")
    op.drop_index("ix_calls_updated_at_call_id", table_name="calls")
    op.drop_index("ix_calls_status_next_attempt_at", table_name="calls")
    op.drop_index("ix_calls_next_attempt_at", table_name="calls")
    op.drop_table("calls")
    op.drop_index("ix_events_call_id", table_name="events")
    op.drop_table("events")
