"""A throw-away PostgreSQL server for tests: `python scripts/pg_tmp.py start|stop|url --dir DIR`.

Stdlib only. `start` runs initdb into DIR (a new temp dir without --dir), starts the server on a
free loopback port with trust auth and fsync off, creates the `callbridge_test` database and
prints its URL. `stop` shuts the server down and deletes DIR. As root, the server runs as the
`postgres` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

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


class PgTmpError(RuntimeError):
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
    created = directory is None or not directory.exists()
    directory = Path(tempfile.mkdtemp(prefix="callbridge-pg-")) if directory is None else directory
    try:
        return _start(binaries, directory, database)
    except BaseException:
        if created:
            stop(directory)
        raise


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
    for attempt in range(3):
        # Another process may take the probed port before the server binds it; the last `port`
        # line of postgresql.conf wins, so a retry just appends a new one.
        port = _free_port()
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(SERVER_CONF.format(port=port, socket_dir=socket_dir))
        try:
            _run(
                owner,
                [binaries["pg_ctl"], "-D", data, "-l", directory / "server.log", "-w", "-t", "30", "start"],
                directory,
            )
            break
        except PgTmpError:
            if attempt == 2:
                raise
    _run(owner, [binaries["createdb"], "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database], directory)
    url = f"postgresql://postgres@127.0.0.1:{port}/{database}"
    (directory / "url").write_text(url + "\n")
    return TempPostgres(directory=directory, port=port, url=url)


def stop(directory: Path) -> None:
    """Stop the server started in `directory` (if it runs) and delete the directory."""
    binaries = find_binaries()
    data = directory / "data"
    if binaries is not None and (data / "postmaster.pid").exists():
        # immediate: no checkpoint, nothing here is worth keeping
        _run(_server_user(), [binaries["pg_ctl"], "-D", data, "-m", "immediate", "-w", "stop"], directory)
    shutil.rmtree(directory, ignore_errors=True)


def url(directory: Path) -> str:
    try:
        return (directory / "url").read_text().strip()
    except FileNotFoundError:
        raise PgTmpError(f"no server was started in {directory}") from None


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="a throw-away PostgreSQL for tests")
    parser.add_argument("command", choices=["start", "stop", "url"])
    parser.add_argument("--dir", type=Path, help="where the server lives (start: a new temp dir if omitted)")
    args = parser.parse_args(argv)
    if args.command != "start" and args.dir is None:
        parser.error(f"{args.command} needs --dir")
    try:
        if args.command == "start":
            server = start(args.dir)
            print(server.url)
            print(f"stop it with: python scripts/pg_tmp.py stop --dir {server.directory}", file=sys.stderr)
        elif args.command == "stop":
            stop(args.dir)
        else:
            print(url(args.dir))
    except PgTmpError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
