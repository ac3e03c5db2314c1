"""make bench's harness works end to end (a smoke run: the numbers themselves are not checked)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive ports nobody listens on now."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65535:
            continue
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base


@pytest.mark.slow
def test_bench_harness_smoke_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FORUM_BENCH")}
    out = tmp_path / "result.json"
    base = free_ports(3)  # the app, the bare app, the memory run
    run = subprocess.run(
        [
            sys.executable,
            "bench/run.py",
            "--scale",
            "0.01",
            "--rounds",
            "1",
            "--workers",
            "1",
            "--data",
            str(tmp_path / "data"),
            "--out",
            str(out),
            "--port-base",
            str(base),
            "--memory",
            "60",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())["runs"][0]
    assert result["port"] == base  # from --port-base
    pages = {(p["page"], p["role"]): p for p in result["pages"]}
    meeting = pages[("meetings.meeting", "participant")]
    assert meeting["queries"] > 0 and meeting["bytes"] > 1000 and meeting["bare_median_ms"] > 0
    assert ("home.index", "organiser") in pages and ("admin.users?q=hod", "admin") in pages
    assert result["logins_per_second_per_worker"] > 0 and result["worker_rss_mb"]
    memory = result["memory"]
    assert memory["requests"] == sum(memory["statuses"].values()) == 60
    assert len(memory["worker_rss_mb"]) == 1 and memory["worker_rss_mb"][0] > 0
    assert "vs bare" in run.stdout and "memory: 60 requests" in run.stdout
