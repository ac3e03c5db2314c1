"""Ship only the Bootstrap CSS the pages use (``make css``).

Reads the vendored, complete ``static/vendor/bootstrap/bootstrap.min.css`` (kept in the
repository so this can always be re-run) and writes ``bootstrap.used.min.css`` beside it,
which is what ``templates/base.html`` links.

A rule is kept when one of its selectors needs only classes that are "used"; classes
inside ``:not(...)`` are not needed for a match, so they do not count. Element, root and
attribute-only rules (reboot, ``:root`` variables, ``[hidden]``) have no classes and are
always kept; ``@keyframes`` are kept; ``@media`` blocks are pruned inside and dropped when
empty. Selectors are trimmed to their used alternatives.

"Used" is generous on purpose (a class kept for nothing costs a few bytes; a class missing
breaks a page): every word-like token in templates/, static/js/ and forum_app/ (Python
strings can carry classes), plus the classes Bootstrap's collapse and dropdown plugins set
from script, plus every class starting with a prefix that a template completes at render
time (``class="alert-{{ category }}"`` keeps every ``alert-*``).

Usage: python tools/prune_css.py [--check]
--check fails when the committed file lacks a rule a fresh build would keep (a class newly
used in a template); rules kept for classes no longer used do no harm and do not fail it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "static" / "vendor" / "bootstrap" / "bootstrap.min.css"
TARGET = ROOT / "static" / "vendor" / "bootstrap" / "bootstrap.used.min.css"
SCANNED = [
    (ROOT / "templates", "*.html"),
    (ROOT / "templates", "*.txt"),
    (ROOT / "static" / "js", "*.js"),
    (ROOT / "forum_app", "*.py"),
]
# Set at run time by the collapse and dropdown plugins (bootstrap.used.min.js, built by make js),
# never written in a template.
SCRIPT_CLASSES = {
    "show",
    "collapsing",
    "collapsed",
    "collapse-horizontal",
    "dropdown-menu-end",
    "dropdown-menu-start",
    "dropup",
    "dropend",
    "dropstart",
    "dropdown-center",
    "dropup-center",
}

CLASS_RE = re.compile(r"\.((?:[A-Za-z0-9_-]|\\.)+)")
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+")
# A class written up to a template expression: "text-bg-{{ ... }}".
PREFIX_RE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*-)\{[{%]")


def used_classes() -> tuple[set[str], set[str]]:
    tokens: set[str] = set(SCRIPT_CLASSES)
    prefixes: set[str] = set()
    for folder, pattern in SCANNED:
        for path in sorted(folder.rglob(pattern)):
            text = path.read_text(encoding="utf-8")
            tokens.update(TOKEN_RE.findall(text))
            prefixes.update(PREFIX_RE.findall(text))
    return tokens, prefixes


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside parentheses, brackets and strings."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == "\\":
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def strip_not(selector: str) -> str:
    """The selector without its ``:not(...)`` arguments (they need no class present)."""
    out, i = [], 0
    while i < len(selector):
        if selector.startswith(":not(", i):
            depth, i = 1, i + 5
            while i < len(selector) and depth:
                depth += {"(": 1, ")": -1}.get(selector[i], 0)
                i += 1
            continue
        out.append(selector[i])
        i += 1
    return "".join(out)


def _past_string(css: str, i: int) -> int:
    """Index just past the quoted string that starts at ``css[i]`` (backslash escapes honoured)."""
    quote, i, n = css[i], i + 1, len(css)
    while i < n:
        if css[i] == "\\":
            i += 1
        elif css[i] == quote:
            return i + 1
        i += 1
    return i


def parse_blocks(css: str) -> list[tuple[str, str | None]]:
    """Top-level items of a stylesheet: (prelude, body) for blocks, (statement, None) for ``@charset`` etc."""
    items, i, n = [], 0, len(css)
    while i < n:
        while i < n and css[i].isspace():
            i += 1
        if css.startswith("/*", i):
            i = css.index("*/", i) + 2
            continue
        if i >= n:
            break
        start = i
        while i < n and css[i] not in "{;":
            i = _past_string(css, i) if css[i] in "\"'" else i + 1
        prelude = css[start:i].strip()
        if i >= n or css[i] == ";":
            items.append((prelude, None))
            i += 1
            continue
        depth, body_start, i = 1, i + 1, i + 1
        while i < n and depth:
            ch = css[i]
            if ch in "\"'":
                i = _past_string(css, i)
                continue
            depth += (ch == "{") - (ch == "}")
            i += 1
        items.append((prelude, css[body_start : i - 1]))
    return items


def is_used(cls: str, tokens: set[str], prefixes: set[str]) -> bool:
    cls = cls.replace("\\", "")
    return cls in tokens or any(cls.startswith(prefix) for prefix in prefixes)


def prune(css: str, tokens: set[str], prefixes: set[str]) -> str:
    out = []
    for prelude, body in parse_blocks(css):
        if body is None:
            if not prelude.startswith("/*# sourceMappingURL"):
                out.append(prelude + ";")
        elif prelude.startswith(("@media", "@supports", "@layer", "@container")):
            inner = prune(body, tokens, prefixes)
            if inner:
                out.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):  # @keyframes, @font-face, @page: kept whole
            out.append(f"{prelude}{{{body}}}")
        else:
            kept = [
                s
                for s in split_top(prelude)
                if all(is_used(c, tokens, prefixes) for c in CLASS_RE.findall(strip_not(s)))
            ]
            if kept:
                out.append(f"{','.join(kept)}{{{body}}}")
    return "".join(out)


def flatten(css: str, context: str = "") -> set[tuple[str, str, str]]:
    """Every (enclosing @-rule, selector, declarations) of a stylesheet, one per selector."""
    found: set[tuple[str, str, str]] = set()
    for prelude, body in parse_blocks(css):
        if body is None:
            continue
        if prelude.startswith(("@media", "@supports", "@layer", "@container")):
            found |= flatten(body, context + prelude)
        else:
            found |= {(context, selector, body) for selector in split_top(prelude)}
    return found


def build() -> str:
    tokens, prefixes = used_classes()
    css = SOURCE.read_text(encoding="utf-8")
    css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
    licence = re.search(r"/\*!.*?\*/", css, re.S)  # Bootstrap's copyright notice stays
    return (
        '@charset "UTF-8";'
        + (licence.group(0) if licence else "")
        + "\n/* Pruned to the classes Forum Desk uses by tools/prune_css.py (make css). */\n"
        + prune(css, tokens, prefixes).removeprefix('@charset "UTF-8";')
        + "\n"
    )


def main() -> int:
    built = build()
    if "--check" in sys.argv:
        missing = flatten(built) - flatten(TARGET.read_text(encoding="utf-8") if TARGET.exists() else "")
        if missing:
            shown = ", ".join(sorted({selector for _, selector, _ in missing})[:10])
            print(
                f"{TARGET.relative_to(ROOT)} lacks rules the pages now use ({shown}): run `make css`", file=sys.stderr
            )
            return 1
        return 0
    TARGET.write_text(built, encoding="utf-8")
    print(f"{SOURCE.name}: {SOURCE.stat().st_size:,} bytes -> {TARGET.name}: {len(built.encode()):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
