"""The short fault suite (issue 7): `python -m bench.faults --short` against real processes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.faults import SHORT_CALLS
from bench.faults_cases import NEEDS_POSTGRES
from scripts import pg_tmp

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^(?P<case>\w+)\s+calls\s+(?P<calls>\d+)\s.*unsettled\s+(?P<unsettled>\d+)\s+"
                  r"duplicates (?P<duplicates>\d+)\s+lost (?P<lost>\d+)\s")

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]


def test_every_fault_case_ends_with_every_call_synced_or_explained_no_duplicate_and_nothing_lost() -> None:
    cases = [name for name in SHORT_CALLS if pg_tmp.find_binaries() is not None or name not in NEEDS_POSTGRES]
    command = [sys.executable, "-m", "bench.faults", "--short", *(f"--case={name}" for name in cases)]

    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=230, check=False)

    lines = {match["case"]: match for match in map(LINE.match, result.stdout.splitlines()) if match}
    assert sorted(lines) == sorted(cases), result.stdout + result.stderr
    for case, line in lines.items():
        assert (int(line["duplicates"]), int(line["lost"]), int(line["unsettled"])) == (0, 0, 0), line.string
        assert int(line["calls"]) == SHORT_CALLS[case], line.string
    assert result.returncode == 0, result.stdout + result.stderr
