"""VTIMEZONE components in the RRULE form calendar clients read, checked against ``zoneinfo``.

Outlook reads a VTIMEZONE as one STANDARD and one DAYLIGHT observance, each with a
yearly RRULE ("last Sunday of October at 03:00"); a long list of RDATEs, as some
generators write, is misread or ignored. So each zone's rule is derived from the
transitions ``zoneinfo`` reports, and accepted only if that single yearly rule predicts
every transition, to the minute and with the right offsets, in every year of
``VERIFIED_YEARS``. A zone whose rules cannot be written that way (or that changed
them within the range) is refused with UnsupportedZone rather than sent wrong.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.prop import vRecur

VERIFIED_YEARS = range(2020, 2041)
# The observances start in 1970, as most generators' do; only VERIFIED_YEARS are promised.
RULE_START_YEAR = 1970
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class UnsupportedZone(ValueError):
    """The zone's rules cannot be written as one yearly rule per observance."""


@dataclass(frozen=True)
class Transition:
    at: datetime  # UTC instant
    offset_from: timedelta
    offset_to: timedelta
    name_to: str


@dataclass(frozen=True)
class YearlyRule:
    """ "The ``ordinal``th ``weekday`` of ``month`` at ``wall`` local time (before the change)"."""

    month: int
    ordinal: int  # 1..4, or -1 for the last
    weekday: int  # 0 = Monday
    wall: time

    def date_in(self, year: int) -> date:
        days = _cal.monthrange(year, self.month)[1]
        candidates = [d for d in range(1, days + 1) if date(year, self.month, d).weekday() == self.weekday]
        return date(year, self.month, candidates[self.ordinal - 1 if self.ordinal > 0 else -1])

    def rrule(self) -> vRecur:
        return vRecur({"FREQ": "YEARLY", "BYMONTH": self.month, "BYDAY": f"{self.ordinal}{WEEKDAYS[self.weekday]}"})


@dataclass(frozen=True)
class Observance:
    kind: str  # "STANDARD" or "DAYLIGHT"
    offset_from: timedelta
    offset_to: timedelta
    name: str
    rule: YearlyRule | None  # None: a fixed offset, no changes


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def transitions(zone_name: str, year: int) -> list[Transition]:
    """Every change of UTC offset in ``year`` according to ``zoneinfo``, found to the minute."""
    zone = ZoneInfo(zone_name)
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(hours=6)
    while moment < end:
        nxt = moment + step
        before, after = _offset(zone, moment), _offset(zone, nxt)
        if before != after:
            low, high = moment, nxt  # offset(low) == before, offset(high) == after
            while high - low > timedelta(minutes=1):
                mid = low + (high - low) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= low:
                    break
                if _offset(zone, mid) == before:
                    low = mid
                else:
                    high = mid
            name = high.astimezone(zone).tzname() or ""
            found.append(Transition(high, before, after, name))
        moment = nxt
    return found


def _rule_for(transition: Transition) -> YearlyRule:
    wall = (transition.at + transition.offset_from).replace(tzinfo=None)  # the clock just before the change
    day = wall.date()
    last = day.day + 7 > _cal.monthrange(day.year, day.month)[1]
    ordinal = -1 if last else (day.day - 1) // 7 + 1
    return YearlyRule(day.month, ordinal, day.weekday(), wall.time().replace(tzinfo=None))


@lru_cache(maxsize=64)
def observances(zone_name: str) -> tuple[Observance, ...]:
    """The zone as observances with yearly rules; raises UnsupportedZone if they would not be exact."""
    try:
        zone = ZoneInfo(zone_name)
    except (KeyError, ValueError) as exc:
        raise UnsupportedZone(f"unknown time zone {zone_name!r}") from exc
    years = {year: transitions(zone_name, year) for year in VERIFIED_YEARS}
    counts = {len(found) for found in years.values()}
    if counts == {0}:
        reference = datetime(VERIFIED_YEARS[0], 1, 1, tzinfo=UTC)
        offsets = {_offset(zone, datetime(y, 7, 1, tzinfo=UTC)) for y in VERIFIED_YEARS}
        if len(offsets) != 1:
            raise UnsupportedZone(f"{zone_name} changes its offset without a yearly rule")
        offset = _offset(zone, reference)
        return (Observance("STANDARD", offset, offset, reference.astimezone(zone).tzname() or "", None),)
    if counts != {2}:
        raise UnsupportedZone(f"{zone_name} does not change its clocks exactly twice every year")
    first_year = years[VERIFIED_YEARS[0]]
    result = []
    for index, transition in enumerate(first_year):
        rule = _rule_for(transition)
        for year, found in years.items():
            actual = found[index]
            expected_wall = datetime.combine(rule.date_in(year), rule.wall)
            if (
                (actual.at + actual.offset_from).replace(tzinfo=None) != expected_wall
                or actual.offset_from != transition.offset_from
                or actual.offset_to != transition.offset_to
                or actual.name_to != transition.name_to
            ):
                raise UnsupportedZone(f"{zone_name}: the {year} change does not follow one yearly rule")
        kind = "DAYLIGHT" if transition.offset_to > transition.offset_from else "STANDARD"
        result.append(Observance(kind, transition.offset_from, transition.offset_to, transition.name_to, rule))
    if {o.kind for o in result} != {"STANDARD", "DAYLIGHT"}:
        raise UnsupportedZone(f"{zone_name} has no standard and daylight pair")
    return tuple(result)


def check_zone(zone_name: str) -> None:
    """Raise UnsupportedZone unless invitations can carry this zone exactly."""
    if zone_name != "UTC":
        observances(zone_name)


def vtimezone(zone_name: str) -> Timezone:
    """The VTIMEZONE for ``zone_name`` in RRULE form (one STANDARD, at most one DAYLIGHT)."""
    tz = Timezone()
    tz.add("tzid", zone_name)
    tz.add("x-lic-location", zone_name)
    for obs in observances(zone_name):
        component = TimezoneDaylight() if obs.kind == "DAYLIGHT" else TimezoneStandard()
        if obs.rule is None:
            start = datetime(RULE_START_YEAR, 1, 1)
        else:
            start = datetime.combine(obs.rule.date_in(RULE_START_YEAR), obs.rule.wall)
        component.add("dtstart", start)  # local (floating) time, as RFC 5545 wants for observances
        component.add("tzoffsetfrom", obs.offset_from)
        component.add("tzoffsetto", obs.offset_to)
        component.add("tzname", obs.name)
        if obs.rule is not None:
            component.add("rrule", obs.rule.rrule())
        tz.add_component(component)
    return tz
