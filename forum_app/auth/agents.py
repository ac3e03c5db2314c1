"""A readable name for a browser's User-Agent header: "Firefox on Windows", "Safari on iPhone".

Only for people to recognise their own sessions on the account page, so a short table of the
browsers and systems people here use is enough; anything else is "Unknown browser". The order
matters: Edge and Opera also say "Chrome", Chrome also says "Safari", Android also says "Linux".
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

# (pattern, name): the first match wins.
BROWSERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"\bEdg(?:e|A|iOS)?/", "Edge"),
        (r"\b(?:OPR|Opera)/", "Opera"),
        (r"\bSamsungBrowser/", "Samsung Internet"),
        (r"\bYaBrowser/", "Yandex Browser"),
        (r"\bVivaldi/", "Vivaldi"),
        (r"\b(?:Firefox|FxiOS)/", "Firefox"),
        (r"\b(?:Chrome|CriOS|Chromium)/", "Chrome"),
        (r"\bVersion/[\d.]+.*\bSafari/", "Safari"),
        (r"\bThunderbird/", "Thunderbird"),
        (r"\bcurl/", "curl"),
        (r"\bpython-requests/", "Python requests"),
    )
)

SYSTEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"\bWindows Phone\b", "Windows Phone"),
        (r"\bWindows\b", "Windows"),
        (r"\biPhone\b", "iPhone"),
        (r"\biPad\b", "iPad"),
        (r"\bAndroid\b", "Android"),
        (r"\bCrOS\b", "ChromeOS"),
        (r"\bMac OS X\b|\bMacintosh\b", "macOS"),
        (r"\bLinux\b|\bX11\b", "Linux"),
    )
)


def _first(table: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str | None:
    return next((name for pattern, name in table if pattern.search(text)), None)


def describe(user_agent: str) -> str:
    """ "Firefox on Windows", "Chrome", "Unknown browser on Linux", or "Unknown device"."""
    text = user_agent[:300]
    browser, system = _first(BROWSERS, text), _first(SYSTEMS, text)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return _("Unknown browser on %(system)s", system=system)
    return _("Unknown device")
