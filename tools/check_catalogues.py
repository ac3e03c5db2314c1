"""Check translation catalogues: every entry filled, none fuzzy, placeholders and markup kept.

    python tools/check_catalogues.py [file.po ...]     (default: every catalogue in forum_app/translations)

Exit status 1 and one line per problem when something is wrong. The tests run the same checks
(tests/test_translations.py); translators run this before handing a catalogue back.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "forum_app" / "translations"

# Python's %-placeholders (%(name)s, %(num)d, %s, and a literal %%), and the {name} that
# marshmallow fills into its messages.
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sdif%]|\{[a-z_]+\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def _placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


def problems(path: Path) -> list[str]:
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    found = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {ids[0][:60]!r}"
        if message.fuzzy:
            found.append(f"{where}: fuzzy")
        if any(not s for s in strings):
            found.append(f"{where}: empty")
            continue
        if isinstance(message.id, tuple) and len(strings) != catalogue.num_plurals:
            found.append(f"{where}: {len(strings)} plural forms, the language has {catalogue.num_plurals}")
        # Every form fills every placeholder of the source. The count too: in the South Slavic
        # languages the "one" form also serves 21, 31, 101 ("21 sastanak"), so it must show the number.
        source = set(_placeholders(" ".join(ids)))
        for text in strings:
            have = set(_placeholders(text))
            if source - have:
                found.append(f"{where}: placeholders {sorted(source - have)} missing")
            if have - source:
                found.append(f"{where}: placeholders {sorted(have - source)} not in the source")
            if sorted(TAG.findall(text)) != sorted(TAG.findall(ids[0])):
                found.append(f"{where}: markup differs from the source (a translation is text, never markup)")
    return found


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted(CATALOGUES.glob("*/LC_MESSAGES/messages.po"))
    found = [line for path in paths for line in problems(path)]
    for line in found:
        print(line)
    print(f"{len(paths)} catalogue(s), {len(found)} problem(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
