"""The shipped Bootstrap CSS is pruned to the classes the pages use, and holds every rule they need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_pruned_bootstrap_css_is_current_and_small():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "prune_css.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr + " (run `make css` and commit the result)"
    pruned = (ROOT / "static" / "vendor" / "bootstrap" / "bootstrap.used.min.css").read_text(encoding="utf-8")
    full = (ROOT / "static" / "vendor" / "bootstrap" / "bootstrap.min.css").read_text(encoding="utf-8")
    assert len(pruned) < len(full) / 3
    assert "Licensed under MIT" in pruned  # Bootstrap's notice travels with its code
    for used in (".navbar-toggler", ".collapse:not(.show)", ".dropdown-menu", ".btn-primary", ".visually-hidden"):
        assert used in pruned
    assert ".carousel" not in pruned and ".tooltip" not in pruned


def test_pages_link_the_pruned_css(client):
    html = client.get("/login").get_data(as_text=True)
    assert "bootstrap.used.min.css?v=" in html and "bootstrap.min.css" not in html
