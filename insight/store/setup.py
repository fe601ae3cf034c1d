"""What the setup doctor keeps and reads: tokens of the Aircall webhooks callbridge registered, and
callbridge's last note writes (the only evidence of note rights that needs no write of its own)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from insight.domain.setup_checks import WriteEvidence
from insight.store.tables import aircall_webhooks, attempts, utcnow


def save_webhook_token(engine: Engine, *, webhook_id: str, url: str, token: str) -> None:
    """Remember the token of `webhook_id` (replacing what was kept for it)."""
    with engine.begin() as connection:
        connection.execute(delete(aircall_webhooks).where(aircall_webhooks.c.webhook_id == webhook_id))
        connection.execute(insert(aircall_webhooks).values(webhook_id=webhook_id, url=url, token=token,
                                                           stored_at=utcnow()))


def webhook_tokens(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(aircall_webhooks.c.token)).scalars())


def last_note_writes(engine: Engine) -> dict[str, WriteEvidence]:
    """The latest `create` and the latest `update` attempt, by kind."""
    found: dict[str, WriteEvidence] = {}
    with engine.connect() as connection:
        for kind in ("create", "update"):
            row = connection.execute(
                select(attempts.c.status_code, attempts.c.started_at, attempts.c.explanation)
                .where(attempts.c.kind == kind).order_by(attempts.c.id.desc()).limit(1)
            ).one_or_none()
            if row is not None:
                found[kind] = WriteEvidence(status_code=row.status_code, at=row.started_at, explanation=row.explanation)
    return found
