"""`python -m insight`: operator commands (the setup doctor lands here)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    print("usage: python -m insight <command>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
