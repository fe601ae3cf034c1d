"""What `pg_tmp.py` and `redis_tmp.py` share: a free loopback port, the server's directory, the CLI.

Stdlib only. The scripts import it as `scripts._throwaway`, or as `_throwaway` when run as files
(`python scripts/pg_tmp.py …` puts only scripts/ on sys.path).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

_Server = TypeVar("_Server")
#: a retry takes another port; the last failure is reported
_LAUNCH_ATTEMPTS = 3


class ThrowawayError(RuntimeError):
    """A throw-away server could not be started or found; the message says why."""


class _Started(Protocol):
    @property
    def directory(self) -> Path: ...

    @property
    def url(self) -> str: ...


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_in(
    directory: Path | None, prefix: str, start: Callable[[Path], _Server], stop: Callable[[Path], None]
) -> _Server:
    """`start(directory)`, in a new temp dir when `directory` is None; a directory made here is stopped on failure."""
    created = directory is None or not directory.exists()
    directory = Path(tempfile.mkdtemp(prefix=prefix)) if directory is None else directory
    try:
        return start(directory)
    except BaseException:
        if created:
            stop(directory)
        raise


def launch_on_free_port(launch: Callable[[int], None]) -> int:
    """The port `launch` succeeded on; it raises ThrowawayError when the server does not come up."""
    for attempt in range(1, _LAUNCH_ATTEMPTS + 1):
        # Another process may take the probed port before the server binds it: then try another.
        port = free_port()
        try:
            launch(port)
            return port
        except ThrowawayError:
            if attempt == _LAUNCH_ATTEMPTS:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def write_url(directory: Path, url: str) -> None:
    (directory / "url").write_text(url + "\n")


def read_url(directory: Path, error: type[ThrowawayError]) -> str:
    try:
        return (directory / "url").read_text().strip()
    except FileNotFoundError:
        raise error(f"no server was started in {directory}") from None


def main(
    argv: list[str] | None,
    *,
    server: str,
    script: str,
    start: Callable[[Path | None], _Started],
    stop: Callable[[Path], None],
    url: Callable[[Path], str],
) -> int:
    parser = argparse.ArgumentParser(description=f"a throw-away {server} for tests")
    parser.add_argument("command", choices=["start", "stop", "url"])
    parser.add_argument("--dir", type=Path, help="where the server lives (start: a new temp dir if omitted)")
    args = parser.parse_args(argv)
    if args.command != "start" and args.dir is None:
        parser.error(f"{args.command} needs --dir")
    try:
        if args.command == "start":
            started = start(args.dir)
            print(started.url)
            print(f"stop it with: python scripts/{script} stop --dir {started.directory}", file=sys.stderr)
        elif args.command == "stop":
            stop(args.dir)
        else:
            print(url(args.dir))
    except ThrowawayError as error:
        print(error, file=sys.stderr)
        return 1
    return 0
