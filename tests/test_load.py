"""make load's harness works end to end: a few people for a few seconds (the numbers themselves are not checked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_bench import free_ports

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_load_harness_smoke_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FORUM_BENCH")}
    out = tmp_path / "result.json"
    port = free_ports(1)
    run = subprocess.run(
        [
            sys.executable,
            "bench/load.py",
            *("--users", "8", "--spawn-rate", "8", "--seconds", "8", "--wait", "0.1,0.3", "--workers", "2"),
            *("--data", str(tmp_path / "data"), "--out", str(out), "--port-base", str(port)),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["port"] == port and result["errors"] == 0 and result["lost_writes"] == []
    kinds = {row["kind"]: row for row in result["requests"]}
    assert kinds["sign in"]["requests"] == 8  # each person signs in once (four roles: 4, 2, 1, 1)
    for kind in ("home", "meeting", "forum", "rsvp", "action update (api)", "all"):
        assert kinds[kind]["requests"] > 0 and kinds[kind]["p95_ms"] >= kinds[kind]["p50_ms"] > 0, kind
    writes = {w["kind"]: w for w in result["writes"]}
    assert writes["rsvp"]["confirmed"] > 0 and writes["action update"]["confirmed"] > 0
    assert all(w["stored"] == w["confirmed"] for w in writes.values())
    assert "told saved" in run.stdout and "p95 ms" in run.stdout
