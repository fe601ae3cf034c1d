from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
import redis

from scripts import redis_tmp

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(redis_tmp.find_binary() is None, reason="redis-server not found")


def _redis_tmp(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "scripts/redis_tmp.py", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_the_script_starts_a_server_without_persistence_and_stop_removes_everything() -> None:
    directory = Path(tempfile.gettempdir()) / f"callbridge-redis-test-{uuid.uuid4().hex[:8]}"
    try:
        started = _redis_tmp("start", "--dir", str(directory))
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        assert url.startswith("redis://127.0.0.1:") and url.endswith("/0")
        assert _redis_tmp("url", "--dir", str(directory)).stdout.strip() == url

        client = redis.Redis.from_url(url)
        assert client.ping()
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        client.close()

        again = _redis_tmp("start", "--dir", str(directory))
        assert again.returncode == 1 and "already runs" in again.stderr
    finally:
        stopped = _redis_tmp("stop", "--dir", str(directory))

    assert stopped.returncode == 0, stopped.stderr
    assert not directory.exists()
    assert not redis_tmp.ping(int(url.rsplit(":", 1)[1].split("/")[0]))
