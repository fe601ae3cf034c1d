"""Databases at the schema head without running every migration again for each test.

Hundreds of tests start from an empty database, and Alembic's upgrade from nothing to the head
costs each of them ~60 ms on SQLite and ~130 ms on PostgreSQL. Here the upgrade runs once per test
process into a template, and each test gets a copy of it: a file copy (SQLite) or
`CREATE DATABASE ... TEMPLATE` (PostgreSQL). The code under test still runs `migrate` at start and
finds the head; the upgrade itself is tested from empty databases in tests/store/test_migrate.py.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from insight.store import upgrade

_sqlite_template: Path | None = None
#: server URL -> name of the migrated template database on it
_postgres_templates: dict[str, str] = {}


def sqlite_at_head(database: Path) -> None:
    """Give the absent SQLite file `database` the schema at head (a file that exists is left as it is)."""
    if not database.exists():
        shutil.copyfile(_template_file(), database)


def create_postgres_at_head(admin_url: str, name: str) -> None:
    """Create the database `name` on the server of `admin_url` with the schema at head."""
    template = _postgres_templates.get(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if template is None:
            template = f"callbridge_head_{uuid.uuid4().hex[:12]}"
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
            # upgrade() disposes its engine: a template must have no other session when it is copied
            upgrade(_database_url(admin_url, template))
            _postgres_templates[admin_url] = template
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                           sql.Identifier(template)))


def _template_file() -> Path:
    global _sqlite_template
    if _sqlite_template is None:
        directory = Path(tempfile.mkdtemp(prefix="callbridge-schema-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        template = directory / "head.db"
        # upgrade() disposes its engine, so the file holds every page (no -wal file beside it)
        upgrade(f"sqlite:///{template}")
        assert not template.with_name(template.name + "-wal").exists()
        _sqlite_template = template
    return _sqlite_template


def _database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)
