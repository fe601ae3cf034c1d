from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

from scripts import pg_tmp

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(pg_tmp.find_binaries() is None, reason="PostgreSQL binaries (initdb, pg_ctl) not found"),
]


def _pg_tmp(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "scripts/pg_tmp.py", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_the_script_starts_a_server_reports_its_url_and_stop_removes_everything() -> None:
    # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    directory = Path(tempfile.gettempdir()) / f"callbridge-pg-test-{uuid.uuid4().hex[:8]}"
    try:
        started = _pg_tmp("start", "--dir", str(directory))
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        assert url.startswith("postgresql://postgres@127.0.0.1:") and url.endswith("/callbridge_test")
        assert _pg_tmp("url", "--dir", str(directory)).stdout.strip() == url

        with psycopg.connect(url) as connection:
            assert connection.execute("SHOW fsync").fetchone() == ("off",)

        again = _pg_tmp("start", "--dir", str(directory))
        assert again.returncode == 1 and "already exists" in again.stderr
    finally:
        stopped = _pg_tmp("stop", "--dir", str(directory))

    assert stopped.returncode == 0, stopped.stderr
    assert not directory.exists()
