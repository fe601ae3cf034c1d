"""A throw-away Redis server for tests: `python scripts/redis_tmp.py start|stop|url --dir DIR`.

Stdlib only. `start` runs Debian's `redis-server` daemonised on a free loopback port with
persistence off (no RDB snapshots, no AOF) and its files in DIR (a new temp dir without --dir),
waits until it answers PING and prints its URL. `stop` shuts it down without saving and deletes DIR.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

try:
    from scripts import _throwaway
except ModuleNotFoundError:  # run as a file: scripts/ is on sys.path, the repository root is not
    import _throwaway  # type: ignore[import-not-found, no-redef]

SEARCH_DIRS = ("/usr/bin", "/usr/local/bin", "/usr/sbin")
#: a daemonised server that does not answer within this is reported with its log
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class RedisTmpError(_throwaway.ThrowawayError):
    pass


@dataclass(frozen=True)
class TempRedis:
    directory: Path
    port: int
    url: str


def find_binary() -> Path | None:
    """`redis-server` ($REDIS_SERVER first, then the usual places and PATH), or None if it is missing."""
    override = os.environ.get("REDIS_SERVER")
    candidates = [Path(override)] if override else []
    for path in [*candidates, *(Path(directory) / "redis-server" for directory in SEARCH_DIRS)]:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("redis-server")
    return Path(found) if found else None


def start(directory: Path | None = None) -> TempRedis:
    binary = find_binary()
    if binary is None:
        raise RedisTmpError("redis-server not found: `apt-get install redis-server` or set REDIS_SERVER")
    return _throwaway.start_in(directory, "callbridge-redis-", lambda where: _start(binary, where), stop)


def _start(binary: Path, directory: Path) -> TempRedis:
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "redis.pid").exists():
        raise RedisTmpError(f"a server already runs in {directory}: stop it first (redis_tmp.py stop --dir DIR)")
    port = _throwaway.launch_on_free_port(lambda port: _launch(binary, directory, port))
    url = f"redis://127.0.0.1:{port}/0"
    _throwaway.write_url(directory, url)
    return TempRedis(directory=directory, port=port, url=url)


def _launch(binary: Path, directory: Path, port: int) -> None:
    log = directory / "server.log"
    command = [
        str(binary),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(directory),
        "--daemonize", "yes",
        "--pidfile", str(directory / "redis.pid"),
        "--logfile", str(log),
        "--save", "",
        "--appendonly", "no",
        "--databases", "16",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RedisTmpError(f"redis-server failed ({result.returncode}): {result.stderr.strip()}{_tail(log)}")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if ping(port):
            return
        server = pid(directory)
        if server is not None and not _alive(server):
            break
        time.sleep(0.02)
    _kill(directory)
    raise RedisTmpError(f"redis-server on port {port} did not answer PING{_tail(log)}")


def stop(directory: Path) -> None:
    """Stop the server started in `directory` (if it runs) and delete the directory."""
    _kill(directory)
    shutil.rmtree(directory, ignore_errors=True)


def url(directory: Path) -> str:
    return _throwaway.read_url(directory, RedisTmpError)


def _kill(directory: Path) -> None:
    server = pid(directory)
    if server is None:
        return
    try:
        # SIGTERM with persistence off exits at once without writing anything
        os.kill(server, signal.SIGTERM)
        # a paused server (SIGSTOP) would never act on SIGTERM
        os.kill(server, signal.SIGCONT)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(server) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _alive(server):
        os.kill(server, signal.SIGKILL)
    (directory / "redis.pid").unlink(missing_ok=True)


def pid(directory: Path) -> int | None:
    """The process id of the server started in `directory` (tests pause it to play a hung Redis)."""
    try:
        text = (directory / "redis.pid").read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _alive(server: int) -> bool:
    try:
        # the daemon is not our child, but if it ever is, reap it so it does not linger as a zombie
        waited, _status = os.waitpid(server, os.WNOHANG)
        if waited == server:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(server, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # an exited daemon stays a zombie until init reaps it, which some container inits do slowly
        return Path(f"/proc/{server}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def ping(port: int) -> bool:
    """True when a Redis answers PING on this loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _tail(log: Path) -> str:
    return "\n" + log.read_text()[-2000:] if log.exists() else ""


def main(argv: list[str] | None = None) -> int:
    return _throwaway.main(argv, server="Redis", script="redis_tmp.py", start=start, stop=stop, url=url)


if __name__ == "__main__":
    sys.exit(main())
