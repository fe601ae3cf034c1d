"""A throw-away PostgreSQL server for tests: `python scripts/pg_tmp.py start|stop|url --dir DIR`.

Stdlib only. `start` runs initdb into DIR (a new temp dir without --dir), starts the server on a
free loopback port with trust auth and fsync off, creates the `callbridge_test` database and
prints its URL. `stop` shuts the server down and deletes DIR. As root, the server runs as the
`postgres` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    from scripts import _throwaway
except ModuleNotFoundError:  # run as a file: scripts/ is on sys.path, the repository root is not
    import _throwaway  # type: ignore[import-not-found, no-redef]

DATABASE = "callbridge_test"
SEARCH_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/lib/postgresql/16/bin", "/usr/bin")
NEEDED = ("initdb", "pg_ctl", "createdb")
#: settings for speed over safety: the data is thrown away
SERVER_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
"""


class PgTmpError(_throwaway.ThrowawayError):
    pass


@dataclass(frozen=True)
class TempPostgres:
    directory: Path
    port: int
    url: str


def find_binaries() -> dict[str, Path] | None:
    """initdb, pg_ctl and createdb from one place ($PG_BIN first), or None if they are missing."""
    candidates = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else []
    for directory in [*candidates, *SEARCH_DIRS]:
        found = {name: Path(directory) / name for name in NEEDED}
        if all(os.access(path, os.X_OK) for path in found.values()):
            return found
    on_path = {name: shutil.which(name) for name in NEEDED}
    if all(on_path.values()):
        return {name: Path(path) for name, path in on_path.items() if path}
    return None


def start(directory: Path | None = None, database: str = DATABASE) -> TempPostgres:
    binaries = find_binaries()
    if binaries is None:
        raise PgTmpError(f"PostgreSQL binaries not found ({', '.join(NEEDED)}); set PG_BIN to their directory")
    return _throwaway.start_in(directory, "callbridge-pg-", lambda where: _start(binaries, where, database), stop)


def _start(binaries: dict[str, Path], directory: Path, database: str) -> TempPostgres:
    directory.mkdir(parents=True, exist_ok=True)
    data, socket_dir = directory / "data", directory / "socket"
    if data.exists():
        raise PgTmpError(f"{data} already exists: stop that server first (pg_tmp.py stop --dir {directory})")
    socket_dir.mkdir(exist_ok=True)
    owner = _server_user()
    if owner is not None:
        for path in (directory, socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    initdb: list[str | Path] = [binaries["initdb"], "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"]
    _run(owner, [*initdb, "--locale=C", "--no-sync", "--no-instructions"], directory)

    def launch(port: int) -> None:
        # the last `port` line of postgresql.conf wins, so a retry just appends a new one
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(SERVER_CONF.format(port=port, socket_dir=socket_dir))
        _run(owner, [binaries["pg_ctl"], "-D", data, "-l", directory / "server.log", "-w", "-t", "30", "start"],
             directory)

    port = _throwaway.launch_on_free_port(launch)
    _run(owner, [binaries["createdb"], "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database], directory)
    url = f"postgresql://postgres@127.0.0.1:{port}/{database}"
    _throwaway.write_url(directory, url)
    return TempPostgres(directory=directory, port=port, url=url)


def stop(directory: Path) -> None:
    """Stop the server started in `directory` (if it runs) and delete the directory."""
    binaries = find_binaries()
    data = directory / "data"
    if binaries is not None and (data / "postmaster.pid").exists():
        # immediate: no checkpoint, nothing here is worth keeping
        _run(_server_user(), [binaries["pg_ctl"], "-D", data, "-m", "immediate", "-w", "stop"], directory)
    shutil.rmtree(directory, ignore_errors=True)


def restart(directory: Path, *, mode: str = "fast") -> None:
    """Restart the server in `directory` on the same port (clients see their connections dropped)."""
    binaries = find_binaries()
    if binaries is None:
        raise PgTmpError(f"PostgreSQL binaries not found ({', '.join(NEEDED)}); set PG_BIN to their directory")
    data = directory / "data"
    _run(_server_user(), [binaries["pg_ctl"], "-D", data, "-l", directory / "server.log", "-m", mode, "-w", "-t", "30",
                          "restart"], directory)


def url(directory: Path) -> str:
    return _throwaway.read_url(directory, PgTmpError)


def _server_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PgTmpError("running as root needs a `postgres` user to run the server as") from None


def _run(owner: pwd.struct_passwd | None, command: list[str | Path], cwd: Path) -> None:
    # The server daemonises with its output sent to server.log, so capturing ours cannot hang.
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        user=owner.pw_uid if owner else None,
        group=owner.pw_gid if owner else None,
        extra_groups=[] if owner else None,
        env={**os.environ, "HOME": owner.pw_dir} if owner else None,
        check=False,
    )
    if result.returncode != 0:
        log = cwd / "server.log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise PgTmpError(f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}\n{tail}")


def main(argv: list[str] | None = None) -> int:
    return _throwaway.main(argv, server="PostgreSQL", script="pg_tmp.py", start=start, stop=stop, url=url)


if __name__ == "__main__":
    sys.exit(main())
