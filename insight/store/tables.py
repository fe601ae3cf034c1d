"""The schema as SQLAlchemy Core tables. Migrations create it; `test_migrate` checks they agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)

from shared.states import SyncState

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY
Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both dialects.

    SQLite keeps no offset, so values are stored as naive UTC text there (which also keeps
    text comparison and ordering right); naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json() -> JSON:
    # none_as_null: Python None is SQL NULL, not the JSON text 'null'
    return JSON(none_as_null=True)


events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    #: "<event>:<data.id>:<timestamp>": a redelivery carries the same three
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("call_id", BigInteger, nullable=False, index=True),
    Column("event", String(64), nullable=False),
    Column("event_timestamp", BigInteger, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    #: the body exactly as received, so a reducer fix can be replayed over history
    Column("payload", Text, nullable=False),
)

calls = Table(
    "calls",
    metadata,
    Column("call_id", BigInteger, primary_key=True, autoincrement=False),
    Column("direction", String(16)),
    Column("call_type", String(16)),
    Column("agent_email", String(320)),
    Column("agent_id", BigInteger),
    Column("number_name", String(200)),
    Column("raw_digits", String(64)),
    Column("phone_e164", String(32)),
    Column("started_at", UTCDateTime),
    Column("answered_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("is_over", Boolean, nullable=False, default=False),
    Column("state_json", _json(), nullable=False),
    Column("match_json", _json()),
    Column("flags_json", _json(), nullable=False),
    Column("card_pushed_at", UTCDateTime),
    Column("card_status", String(32)),
    Column("note_id", BigInteger),
    Column("note_person_entity", String(32)),
    Column("note_person_id", BigInteger),
    Column("action", String(100)),
    #: hash of the note body last written, so an unchanged call is not written again
    Column("synced_body_hash", String(64)),
    Column("status", String(16), nullable=False),
    Column("explanation", Text),
    Column("attempt_count", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, index=True),
    #: set just before a note PUT and cleared with its answer: if still set, the PUT may have
    #: landed, so look the note up by externalID before writing again
    Column("write_intent_at", UTCDateTime),
    #: a lease for SQLite, which has no FOR UPDATE SKIP LOCKED
    Column("locked_by", String(128)),
    Column("locked_until", UTCDateTime),
    #: id of the newest event stored for the call
    Column("last_event_id", BigInteger),
    #: the last_event_id the last successful note write covered (newer events mean "write again")
    Column("synced_event_id", BigInteger),
    #: set by a Retry: the next sync looks the number up again, bypassing the card's match and caches
    Column("rematch", Boolean, nullable=False, default=False, server_default=false()),
    #: the note body last written (or adopted), so a later change is sent as a minimal update
    Column("synced_body_json", _json()),
    #: how the call reached callbridge: NULL for webhooks, "backfill" when Aircall's call list supplied it
    Column("source", String(16)),
    #: when the retention job removed the call's raw events and phone numbers (migration 0004)
    Column("purged_at", UTCDateTime),
    #: AI contents fetched from Aircall's REST API, the note's AI sections, write-once bookkeeping (0010)
    Column("ai_json", _json()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "status", "next_attempt_at"),
    Index(None, "updated_at", "call_id"),
    #: the card's context: the latest and the live calls with a number (migration 0012)
    Index(None, "phone_e164", "started_at"),
    CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in SyncState)})", name="status"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("call_id", BigInteger, ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("request_summary", Text),
    Column("status_code", Integer),
    Column("outcome", String(16)),
    Column("error", Text),
    Column("explanation", Text),
)

#: the one row of the Bullhorn session
SESSION_ROW_ID = 1

bullhorn_session = Table(
    "bullhorn_session",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("rest_token", Text),
    Column("rest_url", Text),
    Column("refresh_token", Text),
    Column("ats_url", Text),
    Column("oauth_url", Text),
    Column("expires_at", UTCDateTime),
    Column("version", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime),
    #: the refresh lock as a lease on SQLite (PostgreSQL uses an advisory lock instead)
    Column("lock_owner", String(128)),
    Column("lock_until", UTCDateTime),
    CheckConstraint(f"id = {SESSION_ROW_ID}", name="single_row"),
)

#: the phone index (migration 0003): every Candidate/ClientContact with its card facts, kept by the worker
indexed_records = Table(
    "indexed_records",
    metadata,
    Column("entity", String(32), primary_key=True),
    Column("record_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("owner", Text),
    Column("company", Text),
    Column("status", String(100)),
    Column("date_last_modified", BigInteger, nullable=False),
    Column("is_deleted", Boolean, nullable=False),
    #: phone field -> value as stored in Bullhorn
    Column("phones_json", _json(), nullable=False),
    #: the scan that last wrote the row; a finished re-scan drops rows of older scans (records gone meanwhile)
    Column("scan", Integer, nullable=False),
    Column("indexed_at", UTCDateTime, nullable=False),
)

#: one row per phone field holding a usable number: what a ring-time lookup reads
phone_index = Table(
    "phone_index",
    metadata,
    Column("entity", String(32), primary_key=True),
    Column("record_id", BigInteger, primary_key=True, autoincrement=False),
    Column("field", String(32), primary_key=True),
    #: the number, when the default region reads the stored value
    Column("e164", String(32), index=True),
    Column("is_primary", Boolean, nullable=False),
    #: its digits as typed when it is no valid number in the default region: a national number of a country
    #: the index cannot know, looked up by a caller's `national_keys`
    Column("national", String(32), index=True),
)

#: build progress of the current scan, per entity
index_state = Table(
    "index_state",
    metadata,
    Column("entity", String(32), primary_key=True),
    Column("scan", Integer, nullable=False),
    #: highest record id the current scan has stored: a restarted build continues after it
    Column("cursor", BigInteger, nullable=False),
    Column("indexed", Integer, nullable=False),
    Column("total", Integer),
    Column("done", Boolean, nullable=False),
    Column("started_at", UTCDateTime),
    Column("built_at", UTCDateTime),
)

#: the one row of the Bullhorn event subscription that keeps the index fresh
FEED_ROW_ID = 1

index_feed = Table(
    "index_feed",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("subscription_id", String(100)),
    Column("subscribed_at", UTCDateTime),
    #: bumped by every (re)subscription; the scan it starts carries this number
    Column("scan", Integer, nullable=False, default=0),
    #: the last event batch applied; a higher lastRequestId at Bullhorn means batches were read, not applied
    Column("last_request_id", BigInteger, nullable=False, default=0),
    Column("last_poll_at", UTCDateTime),
    Column("last_event_at", UTCDateTime),
    Column("last_batch_size", Integer, nullable=False, default=0),
    Column("events_applied", BigInteger, nullable=False, default=0),
    #: an event read began and its batch is not applied yet: after a failure, that batch is read again
    Column("read_pending", Boolean, nullable=False, default=False),
    #: why the keeper cannot keep the index (event subscriptions refused); None while it can
    Column("off_reason", Text),
    #: one keeper at a time (several workers may run): a lease, as for the session row
    Column("locked_by", String(128)),
    Column("locked_until", UTCDateTime),
    CheckConstraint(f"id = {FEED_ROW_ID}", name="single_row"),
)

#: Bullhorn requests by month and purpose (migration 0004): the API budget meter, summed over processes
bullhorn_usage = Table(
    "bullhorn_usage",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("purpose", String(16), primary_key=True),
    Column("requests", BigInteger, nullable=False),
)

#: backfill runs, periodic and on demand (migration 0005); the newest periodic one holds the watermark
backfill_jobs = Table(
    "backfill_jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("window_from", UTCDateTime, nullable=False),
    Column("window_to", UTCDateTime, nullable=False),
    Column("seen", Integer, nullable=False, default=0),
    Column("taken_in", Integer, nullable=False, default=0),
    Column("known", Integer, nullable=False, default=0),
    Column("detail", Text),
    #: UNIX seconds the next periodic run may start from (periodic runs only, once done)
    Column("watermark", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),
    Index(None, "kind", "created_at"),
)

#: Aircall webhooks callbridge registered itself (migration 0006), with the token Aircall signs their deliveries with
aircall_webhooks = Table(
    "aircall_webhooks",
    metadata,
    Column("webhook_id", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("token", Text, nullable=False),
    Column("stored_at", UTCDateTime, nullable=False),
)

#: one SMS/WhatsApp conversation per person, per Aircall line, per UTC day (migration 0011, DESIGN §12
#: "Messages"): its Bullhorn note and its sync state, a queue like `calls`
conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    #: the Aircall line (`data.number.id`), as text: message ids and line ids are strings in some payloads
    Column("line_id", String(32), nullable=False),
    Column("line_name", String(200)),
    Column("line_digits", String(64)),
    #: the customer's number: E.164 when readable, else as Aircall wrote it
    Column("number", String(64), nullable=False),
    Column("phone_e164", String(32), index=True),
    #: YYYY-MM-DD, the UTC date of the conversation's messages
    Column("day", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("explanation", Text),
    Column("match_json", _json()),
    Column("note_id", BigInteger),
    Column("note_person_entity", String(32)),
    Column("note_person_id", BigInteger),
    Column("action", String(100)),
    #: set before a note PUT, cleared with its answer (as on `calls`)
    Column("write_intent_at", UTCDateTime),
    Column("synced_body_json", _json()),
    #: id of the newest message stored, and the one the last note write covered
    Column("last_message_id", BigInteger),
    Column("synced_message_id", BigInteger),
    Column("rematch", Boolean, nullable=False, default=False),
    Column("attempt_count", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("locked_by", String(128)),
    Column("locked_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("line_id", "number", "day"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "created_at", "id"),
    CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in SyncState)})", name="status"),
)

#: the messages of a conversation, one row per Aircall message (a redelivery finds its row)
conversation_messages = Table(
    "conversation_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", BigInteger, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False,
           index=True),
    #: "<line id>:<message id>"
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("event", String(64), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    #: who wrote it: the agent's name or e-mail for outbound messages, the customer's number for inbound
    Column("sender", String(320)),
    Column("agent_email", String(320)),
    Column("body", Text),
    #: [{"name", "url"}] of the message's media
    Column("media_json", _json()),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

#: the one row of the Aircall hold (migration 0013)
AIRCALL_HOLD_ROW_ID = 1

#: Aircall's rate limit is per company (DESIGN §15): after a 429 (or a spent quota) no process sends it
#: anything before the reset that answer named, at most one window ahead
aircall_hold = Table(
    "aircall_hold",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    #: epoch seconds before which nothing is sent to Aircall; None: no hold was ever set
    Column("resume_at", Float),
    Column("held_at", UTCDateTime),
    CheckConstraint(f"id = {AIRCALL_HOLD_ROW_ID}", name="single_row"),
)
