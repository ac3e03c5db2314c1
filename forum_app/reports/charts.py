"""What the dashboard's charts show: their figures, taken from the report's own (the tables' source),
their titles and the finding each states in words (its text alternative), in the reader's language.

reports/drawing.py draws them; the page puts the same figures in a table beside each chart, so a
chart is never the only way to read them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from babel.lists import format_list
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from ..core.dates import format_number, format_share
from ..vocab import GENDERS, ORGANISATION_KINDS
from .rows import Figures, Row

STUCK_FORUMS = 10  # the bars name the forums with the most overdue and stalled actions
LABEL_CHARACTERS = 18  # a bar's label, shortened beyond this (the table gives the whole name)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]


@dataclass(frozen=True)
class Chart:
    key: str  # its id on the page and its style (app.css: .chart-<key>)
    title: str  # what it shows
    finding: str  # what it says: its text alternative
    header: str  # the table's first column
    categories: list[str]  # the table's row names, whole
    labels: list[str]  # the same, as drawn (shortened)
    series: list[Series] = field(default_factory=list)
    share: bool = False  # values are shares from 0 to 1
    horizontal: bool = False
    note: str = ""  # what the chart leaves out, said under it
    axis_title: str = ""  # the category axis's title, where its labels do not say what they are

    @property
    def empty(self) -> bool:
        return not self.categories


def short_labels(names: list[str]) -> list[str]:
    """Names as a chart draws them: without the words every one of them shares ("local coordination
    forum"), then cut to ``LABEL_CHARACTERS``."""
    words = [name.split() for name in names]
    common = set(words[0]).intersection(*words[1:]) if len(names) > 1 else set()
    result = []
    for parts in words:
        kept = [w for w in parts if w not in common] or parts
        label = " ".join(kept)
        result.append(label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1].rstrip() + "…")
    return result


def _names(names: list[str]) -> str:
    return format_list(names, locale=get_locale() or "en")


def stuck_actions(forum_rows: list[Row]) -> Chart:
    """Overdue and stalled actions per forum, the forums with the most first."""
    stuck = sorted(
        (r for r in forum_rows if r.figures.overdue or r.figures.stalled),
        key=lambda r: (-r.figures.overdue, -r.figures.stalled, r.label),
    )
    shown = stuck[:STUCK_FORUMS]
    sentences = []
    for figure, text, texts in (
        (
            "overdue",
            lambda name, n: _("%(forum)s has the most overdue actions: %(count)s.", forum=name, count=n),
            lambda names, n: _("%(forums)s have the most overdue actions: %(count)s each.", forums=names, count=n),
        ),
        (
            "stalled",
            lambda name, n: _("%(forum)s has the most stalled actions: %(count)s.", forum=name, count=n),
            lambda names, n: _("%(forums)s have the most stalled actions: %(count)s each.", forums=names, count=n),
        ),
    ):
        most = max((getattr(r.figures, figure) for r in forum_rows), default=0)
        if most:
            leaders = [r.label for r in forum_rows if getattr(r.figures, figure) == most]
            count = format_number(most)
            sentences.append(text(leaders[0], count) if len(leaders) == 1 else texts(_names(leaders), count))
    finding = " ".join(sentences) if sentences else _("No forum has overdue or stalled actions.")
    names = [r.label for r in shown]
    return Chart(
        "stuck",
        _("Overdue and stalled actions by forum"),
        finding,
        _("Forum"),
        names,
        short_labels(names) if names else [],
        [
            Series(_("Overdue"), [r.figures.overdue for r in shown]),
            Series(_("Stalled"), [r.figures.stalled for r in shown]),
        ],
        horizontal=True,
        note=ngettext(
            "The %(num)d forums with the most; %(more)s more in the table by forum.",
            "The %(num)d forums with the most; %(more)s more in the table by forum.",
            len(shown),
            more=format_number(len(stuck) - len(shown)),
        )
        if len(stuck) > len(shown)
        else "",
    )


def _went(values: Sequence[tuple[str, float | None]], share: bool) -> tuple[str, str, str, str] | None:
    """(first value, its quarter, last value, its quarter) of the quarters that have one."""
    known = [(q, v) for q, v in values if v is not None]
    if not known:
        return None
    shown = format_share if share else format_number
    (start, first), (end, last) = known[0], known[-1]
    return shown(first), start, shown(last), end


def _axis_title(axis: list[str]) -> str:
    """ "Quarter" under an axis whose quarters are bare numbers (where the language's short name is long)."""
    numbered = axis and not any(ch.isalpha() for ch in axis[-1].split("\n")[0])
    return _("Quarter") if numbered else ""


def held_trend(quarters: list[str], axis: list[str], held: Counter) -> Chart:
    points = [(q, held[i]) for i, q in enumerate(quarters)]
    went = _went(points, False)
    finding = (
        _(
            "Meetings held went from %(first)s in %(start)s to %(last)s in %(end)s.",
            first=went[0],
            start=went[1],
            last=went[2],
            end=went[3],
        )
        if went and len(quarters) > 1
        else ngettext(
            "%(count)s meeting held in the period.",
            "%(count)s meetings held in the period.",
            sum(held.values()),
            count=format_number(sum(held.values())),
        )
    )
    return Chart(
        "held",
        _("Meetings held by quarter"),
        finding,
        _("Quarter"),
        quarters,
        axis,
        [Series(_("Meetings held"), [v for _q, v in points])],
        axis_title=_axis_title(axis),
    )


def attendance_trend(quarters: list[str], axis: list[str], present: Counter, invitees: Counter) -> Chart:
    points = [(q, present[i] / invitees[i] if invitees[i] else None) for i, q in enumerate(quarters)]
    went = _went(points, True)
    if went is None:
        finding = _("No meetings were held in the period.")
    elif went[1] == went[3]:
        finding = _("The attendance rate was %(rate)s in %(quarter)s.", rate=went[0], quarter=went[1])
    else:
        finding = _(
            "The attendance rate went from %(first)s in %(start)s to %(last)s in %(end)s.",
            first=went[0],
            start=went[1],
            last=went[2],
            end=went[3],
        )
    return Chart(
        "attendance",
        _("Attendance rate by quarter"),
        finding,
        _("Quarter"),
        quarters,
        axis,
        [Series(_("Attendance rate"), [v for _q, v in points])],
        share=True,
        axis_title=_axis_title(axis),
    )


def actions_trend(quarters: list[str], axis: list[str], raised: Counter, done: Counter) -> Chart:
    total_raised, total_done = sum(raised[i] for i in range(len(quarters))), sum(done[i] for i in range(len(quarters)))
    finding = ngettext(
        "%(count)s action raised and %(done)s done in the period.",
        "%(count)s actions raised and %(done)s done in the period.",
        total_raised,
        count=format_number(total_raised),
        done=format_number(total_done),
    )
    if len(quarters) > 1:
        finding += " " + _(
            "In %(quarter)s: %(raised)s raised, %(done)s done.",
            quarter=quarters[-1],
            raised=format_number(raised[len(quarters) - 1]),
            done=format_number(done[len(quarters) - 1]),
        )
    return Chart(
        "actions",
        _("Actions raised and done by quarter"),
        finding,
        _("Quarter"),
        quarters,
        axis,
        [
            Series(_("Raised"), [raised[i] for i in range(len(quarters))]),
            Series(_("Done"), [done[i] for i in range(len(quarters))]),
        ],
        axis_title=_axis_title(axis),
    )


def by_kind(total: Figures) -> Chart:
    """Attendees by kind of organisation, the largest group first (every kind shown: the zeros say who stays away)."""
    kinds = sorted(ORGANISATION_KINDS, key=lambda k: (-total.attendees_by_kind[k], list(ORGANISATION_KINDS).index(k)))
    names = [str(ORGANISATION_KINDS[k]) for k in kinds]
    attendees = total.attendees
    if attendees:
        most = total.attendees_by_kind[kinds[0]]
        leaders = [str(ORGANISATION_KINDS[k]) for k in kinds if total.attendees_by_kind[k] == most]
        count, whole = format_number(most), format_number(attendees)
        finding = (
            _(
                "%(kind)s: the largest group of attendees, %(count)s of %(total)s.",
                kind=leaders[0],
                count=count,
                total=whole,
            )
            if len(leaders) == 1
            else _(
                "%(kinds)s: the largest groups of attendees, %(count)s each of %(total)s.",
                kinds=_names(leaders),
                count=count,
                total=whole,
            )
        )
        absent = [str(ORGANISATION_KINDS[k]) for k in kinds if not total.attendees_by_kind[k]]
        if absent:
            finding += " " + _("None came from: %(kinds)s.", kinds=_names(absent))
    else:
        finding = _("No one was recorded present at a meeting held in the period.")
    return Chart(
        "kinds",
        _("Attendees by kind of organisation"),
        finding,
        _("Kind"),
        names,
        short_labels(names) if len(names) > 1 else names,
        [Series(_("Attendees"), [total.attendees_by_kind[k] for k in kinds])],
        horizontal=True,
    )


def by_gender(total: Figures) -> Chart:
    """Attendees by gender, where recorded (an aggregate only: never a name)."""
    counts = total.attendees_by_gender
    recorded = sum(counts[g] for g in GENDERS if g != "not_recorded")
    if recorded:
        finding = _(
            "Women are %(share)s of the attendees whose gender is recorded (%(women)s of %(recorded)s).",
            share=format_share(counts["female"] / recorded),
            women=format_number(counts["female"]),
            recorded=format_number(recorded),
        )
    else:
        finding = _("No attendee's gender is recorded.")
    names = [str(label) for label in GENDERS.values()]
    return Chart(
        "gender",
        _("Attendees by gender, where recorded"),
        finding,
        _("Gender"),
        names,
        names,
        [Series(_("Attendees"), [counts[g] for g in GENDERS])],
        horizontal=True,
    )
