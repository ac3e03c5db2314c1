"""Time zones as people choose them: by country and city, in their own language, the region first.

The list is the IANA database's ``zone.tab`` (one line per country and zone, shipped with the
``tzdata`` package): it names every zone a country uses and none of the deprecated aliases
("US/Eastern", "Europe/Belfast") that ``zoneinfo.available_timezones()`` also returns. Country
names come from CLDR (Babel) and city names from its exemplar cities, both in the viewer's
language: "Bosna i Hercegovina — Sarajevo", "Северна Македонија — Скопје".

Kosovo* has no line of its own in zone.tab (it keeps the time of Europe/Belgrade): that zone is
labelled with both places, so nobody in Pristina has to pick a zone named after another country.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from babel.dates import get_timezone_location
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..vocab import COUNTRIES, FORUM_TIMEZONES

# The programme's countries (and Croatia, whose language the forums share), in COUNTRIES' order.
REGION_COUNTRIES = ("AL", "BA", "XK", "ME", "MK", "RS", "TR", "HR")

CONTINENTS = {
    "Europe": _l("Europe"),
    "Africa": _l("Africa"),
    "America": _l("Americas"),
    "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic Ocean"),
    "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific Ocean"),
    "Australia": _l("Australia"),
    "Antarctica": _l("Antarctica"),
    "Arctic": _l("Arctic"),
}


@cache
def zone_table() -> tuple[tuple[str, str], ...]:
    """(country code, zone) for every line of tzdata's zone.tab."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return tuple((row[0], row[2]) for row in rows)


@cache
def _country_of_zone() -> dict[str, str]:
    return {zone: country for country, zone in zone_table()}


def _country(code: str) -> str:
    if code in COUNTRIES:  # the programme's names (Kosovo*, North Macedonia, Türkiye)
        return str(COUNTRIES[code])
    return get_locale().territories.get(code, code)


def zone_label(zone: str, country: str | None = None) -> str:
    """ "Country — City" in the viewer's language; "UTC" as itself."""
    if zone == "UTC":
        return _("UTC (coordinated universal time)")
    country = country or _country_of_zone().get(zone)
    city = get_timezone_location(zone, locale=get_locale(), return_city=True)
    if zone == "Europe/Belgrade":
        pristina = _("Pristina")  # not inside the f-string: the extractor would not see it
        return f"{_country('RS')}, {_country('XK')} — {city}, {pristina}"
    return f"{_country(country)} — {city}" if country else city


def zone_choices(first: tuple[str, ...] = ()) -> dict[str, list[tuple[str, str]]]:
    """Grouped choices for a SelectField (WTForms renders each group as an <optgroup>).

    The region's zones first (with ``first``, e.g. the zones forums use, and UTC), then every other
    zone grouped by continent, each group sorted by its labels as the viewer reads them.
    """
    table = zone_table()
    region = [(zone, country) for code in REGION_COUNTRIES for country, zone in table if country == code]
    region_zones = {zone for zone, _ in region}
    extra = [(zone, None) for zone in first if zone not in region_zones]
    groups: dict[str, list[tuple[str, str]]] = {
        _("The region"): [(zone, zone_label(zone, country)) for zone, country in [*region, *extra]]
    }
    shown = {zone for zone, _ in [*region, *extra]}
    rest: dict[str, list[tuple[str, str]]] = {}
    for country, zone in table:
        if zone in shown:
            continue
        continent = zone.split("/")[0]
        rest.setdefault(continent, []).append((zone, zone_label(zone, country)))
    for continent, label in CONTINENTS.items():
        if continent in rest:
            groups[str(label)] = sorted(rest[continent], key=lambda choice: choice[1].casefold())
    return groups


def forum_zone_choices() -> list[tuple[str, str]]:
    """The zones a forum may use (vocab.FORUM_TIMEZONES), labelled in the viewer's language."""
    return [(zone, zone_label(zone)) for zone in FORUM_TIMEZONES]
