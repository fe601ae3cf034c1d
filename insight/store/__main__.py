"""Operator commands: `python -m insight.store upgrade|current|revision -m MESSAGE [--url URL]`."""

from __future__ import annotations

import argparse
import os
import sys

from alembic import command

from insight.store.engine import StoreError, make_engine, safe_url
from insight.store.migrate import alembic_config, current_revision, head_revision, migrate
from shared.settings import DEFAULTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m insight.store", description="callbridge schema migrations")
    parser.add_argument("command", choices=["upgrade", "current", "revision"])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL") or DEFAULTS.database_url)
    parser.add_argument("-m", "--message", help="revision: what the new migration does")
    args = parser.parse_args(argv)
    try:
        engine = make_engine(args.url)
    except StoreError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        if args.command == "upgrade":
            migrate(engine)
            print(f"{safe_url(engine.url)} is at revision {current_revision(engine)}")
        elif args.command == "current":
            current, head = current_revision(engine), head_revision()
            print(f"{safe_url(engine.url)} is at revision {current or 'none'} (head: {head})")
            return 0 if current == head else 1
        else:
            if not args.message:
                parser.error("revision needs -m MESSAGE")
            # Autogenerate compares tables.py with a database at head, so bring it there first.
            migrate(engine)
            head = head_revision()
            with engine.connect() as connection:
                config = alembic_config(connection)
                command.revision(config, message=args.message, autogenerate=True, rev_id=f"{int(head) + 1:04d}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
