"""make bench's harness works end to end (a smoke run: the numbers themselves are not checked)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not (Path(sys.executable).parent / "gunicorn").exists(), reason="gunicorn not installed")
def test_bench_harness_smoke_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FORUM_BENCH")}
    out = tmp_path / "result.json"
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--scale", "0.01", "--rounds", "1", "--workers", "1",
         "--data", str(tmp_path / "data"), "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())["runs"][0]
    pages = {(p["page"], p["role"]): p for p in result["pages"]}
    meeting = pages[("meetings.meeting", "participant")]
    assert meeting["queries"] > 0 and meeting["bytes"] > 1000 and meeting["bare_median_ms"] > 0
    assert ("home.index", "organiser") in pages and ("admin.users?q=hod", "admin") in pages
    assert result["logins_per_second_per_worker"] > 0 and result["worker_rss_mb"]
    assert "vs bare" in run.stdout
