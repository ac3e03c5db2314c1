"""The shipped Bootstrap JS holds only the plugins the templates use, and every one they ask for.

``make js`` builds static/vendor/bootstrap/bootstrap.used.min.js from tools/js (npm, esbuild)
and writes the plugins it bundled into the file's banner; these tests read that banner, so
they need neither npm nor the network. Using a plugin in a template without rebuilding (a
modal, a tooltip) fails here rather than as a dead button in the browser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor" / "bootstrap"
BUILT = VENDOR / "bootstrap.used.min.js"

# Bootstrap's data API: the attribute (and value) a template writes -> the plugin that answers it.
TOGGLES = {
    "collapse": "collapse",
    "dropdown": "dropdown",
    "modal": "modal",
    "offcanvas": "offcanvas",
    "tab": "tab",
    "pill": "tab",
    "list": "tab",
    "button": "button",
    "tooltip": "tooltip",
    "popover": "popover",
}
DISMISSES = {"alert": "alert", "modal": "modal", "offcanvas": "offcanvas", "toast": "toast"}
DATA_API = re.compile(r"""data-bs-(toggle|dismiss|spy|ride|slide|slide-to)\s*=\s*["']?([\w-]*)""")
# A script driving a plugin itself: bootstrap.Modal.getOrCreateInstance(...).
SCRIPT_API = re.compile(r"\bbootstrap\.([A-Z][A-Za-z]+)\b")


def banner_components() -> set[str]:
    head = BUILT.read_text(encoding="utf-8")[:1000]
    match = re.search(r"^ \* components: ([a-z, -]+)$", head, re.M)
    assert match, "bootstrap.used.min.js has no components line in its banner (run `make js`)"
    return {name.strip() for name in match.group(1).split(",")}


def plugins_used() -> dict[str, set[str]]:
    """Each plugin the markup or scripts ask for, with the files that ask."""
    used: dict[str, set[str]] = {}
    sources = [
        *ROOT.joinpath("templates").rglob("*.html"),
        *ROOT.joinpath("forum_app").rglob("*.py"),
        *ROOT.joinpath("static", "js").rglob("*.js"),
    ]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        for attribute, value in DATA_API.findall(text):
            if attribute == "toggle":
                # An unknown value (or one a template fills in) has no plugin to map to: fail
                # loudly rather than let it through.
                plugin = TOGGLES.get(value, f"unknown data-bs-toggle={value!r}")
            elif attribute == "dismiss":
                plugin = DISMISSES.get(value, f"unknown data-bs-dismiss={value!r}")
            elif attribute == "spy":
                plugin = "scrollspy"
            else:
                plugin = "carousel"
            used.setdefault(plugin, set()).add(where)
        for name in SCRIPT_API.findall(text):
            used.setdefault(name.lower(), set()).add(where)
    return used


def test_every_plugin_the_templates_use_is_in_the_built_file():
    used = plugins_used()
    # The navbar's toggler and account menu: if these vanish the scan itself is broken.
    assert {"collapse", "dropdown"} <= used.keys()
    missing = {plugin: sorted(files) for plugin, files in used.items() if plugin not in banner_components()}
    assert not missing, f"{missing}: add the plugin to tools/js/index.js, run `make js` and commit the result"


def test_built_file_is_the_pinned_bootstrap_and_small():
    version = re.search(r"bootstrap (\S+)", (VENDOR / "VERSION").read_text(encoding="utf-8")).group(1)
    text = BUILT.read_text(encoding="utf-8")
    assert text.startswith(f"/*! Bootstrap v{version} ")  # the same Bootstrap as the CSS
    assert "Licensed under MIT" in text[:1000] and "@popperjs/core" in text[:1000]  # notices travel
    package = json.loads((ROOT / "tools" / "js" / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "tools" / "js" / "package-lock.json").read_text(encoding="utf-8"))
    for name in ("bootstrap", "@popperjs/core", "esbuild"):
        pinned = package["devDependencies"][name]
        assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"{name} must be pinned exactly, not {pinned!r}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == pinned
    assert package["devDependencies"]["bootstrap"] == version
    # No registry address in the project: npm uses the one it is configured with.
    assert "resolved" not in json.dumps(lock)
    # Collapse and dropdown with Popper: about half the full bundle (80 KB).
    assert len(text) < 50_000
    assert "carousel" not in text.lower() and "tooltip" not in text.lower()


def test_pages_load_the_built_file_and_nothing_else_from_bootstrap(client):
    html = client.get("/login").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    bootstrap = [src for src in scripts if "/vendor/bootstrap/" in src]
    assert len(bootstrap) == 1 and bootstrap[0].startswith("/static/vendor/bootstrap/bootstrap.used.min.js?v=")
    assert client.get(bootstrap[0]).status_code == 200
    # The full bundle is gone from static: nothing can load it by mistake.
    assert not list(VENDOR.glob("bootstrap.bundle*"))
