"""Charts drawn on the server as SVG with pygal, for pages under a strict Content-Security-Policy.

pygal writes a ``<style>`` and a ``<script>`` into every SVG (its configuration, even with
``js=[]``). Inlined into a page, both would be refused by ``script-src 'self'`` and
``style-src 'self'``, and the chart drawn unstyled. So an XML filter takes them out, with the
ids, comments, tooltips and style attributes meant for pygal's script, and the page's own stylesheet
(static/css/app.css, "Charts") styles what is left by pygal's class names. The SVG is inlined,
not an <img>: its labels are text the browser draws at the page's font size, it prints, and the
figures it shows come from the page's own figures, counted once.

The labels must stay at least 12 px: a chart is drawn ``WIDTH`` wide with ``FONT_PX`` text and
never shown wider than that (CSS ``max-width``), so it only shrinks, and at most to a 360 px
phone's 336 px of content (about 13 px text).

The text alternative is the chart's finding ("Skopje has the most overdue actions: 2"), the SVG's
``<title>`` as a ``role="img"``; the figures themselves are a table beside it (reports/charts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree

import pygal
from markupsafe import Markup
from pygal.style import Style

from ..core.dates import format_number, format_share
from .charts import Chart

WIDTH = 360
FONT_PX = 14
BAR_PX = 26  # a horizontal bar's band (bar and gap)

_STYLE = Style(
    font_family="system-ui, sans-serif",
    label_font_size=FONT_PX,
    major_label_font_size=FONT_PX,
    value_font_size=FONT_PX,
    value_label_font_size=FONT_PX,
    legend_font_size=FONT_PX,
    title_font_size=FONT_PX,
    tooltip_font_size=FONT_PX,
    no_data_font_size=FONT_PX,
)


class _QuarterBars(pygal.Bar):
    """Vertical bars whose axis labels may take two lines ("Q1" above "2026"): pygal leaves room for one.

    Reaches into pygal's layout (``_compute_margin``, ``margin_box``, ``_x_labels_height``: pygal 3.1,
    pinned in requirements.txt), as pygal has no option for it.
    """

    def _compute_margin(self):
        super()._compute_margin()
        if any("\n" in str(label) for label in self.x_labels or ()):
            extra = 1.15 * FONT_PX
            self.margin_box.bottom += extra
            self._x_labels_height += extra


def _strip_for_csp(chart_id: str, title: str):
    """An XML filter: the SVG without what the CSP refuses or only pygal's script reads, named for the page."""

    def unwanted(element, parent, root) -> bool:
        if element.tag is ElementTree.Comment:
            return True
        if element.tag == "title":  # the chart's own stays (its name); the axes' are pygal's tooltips
            return parent is not root
        # The hover boxes live in the "tooltip-overlay" group, matched by that whole name: tools/prune_css.py
        # keeps Bootstrap's rules for every word written in this package, and pygal's own class for the box
        # is also one of Bootstrap's.
        return element.tag in ("style", "script", "desc") or "tooltip-overlay" in element.get("class", "").split()

    def strip(root):
        for parent in list(root.iter()):
            for child in list(parent):
                if unwanted(child, parent, root):
                    parent.remove(child)
        for element in root.iter():
            element.attrib.pop("style", None)  # the hidden hover box's "opacity: 0", and any other
        root.attrib.pop("id", None)
        for element in root.findall("title"):
            element.text = title
            element.set("id", f"{chart_id}-title")
        # A label of two lines ("Q1\n2026"): a <tspan> each, the second under the first.
        for text in root.iter("text"):
            if text.text and "\n" in text.text:
                first, *rest = text.text.split("\n")
                text.text = first
                for line in rest:
                    tspan = ElementTree.SubElement(text, "tspan", x=text.get("x", "0"), dy="1.15em")
                    tspan.text = line
        root.set("role", "img")
        root.set("aria-labelledby", f"{chart_id}-title")
        return root

    return strip


def _integer_ticks(peak: float) -> list[float]:
    """Whole-number gridlines from 0 to at least ``peak`` (counts have no fractions), at most six."""
    top = max(1, int(peak) + (peak % 1 > 0))
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        step = candidate
        if top / candidate <= 5:
            break
    else:
        step = 10 ** len(str(top // 5))
    last = -(-top // step) * step
    return [float(v) for v in range(0, last + 1, step)]


def svg(chart: Chart) -> Markup:
    """The chart as inline SVG markup (pygal escapes every label and title it writes)."""
    values = [v for s in chart.series for v in s.values if v is not None]
    peak = max(values, default=0)
    formatter = format_share if chart.share else format_number
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0] if chart.share else _integer_ticks(peak)
    rows = len(chart.labels)
    horizontal = chart.horizontal
    legend = len(chart.series) > 1
    # Side by side when the names fit the width, else one under the other: pygal gives each column
    # an equal share and lets a longer name run into the next ("Со поминат рок" over "Во застој").
    widest = max((len(s.name) for s in chart.series), default=0) + 3  # the colour box and a gap, in characters
    columns = len(chart.series) if widest * FONT_PX * 0.75 * len(chart.series) <= WIDTH - 40 else 1
    legend_height = 30 * -(-len(chart.series) // columns) if legend else 0
    if horizontal:
        height = 60 + rows * BAR_PX * max(1, len(chart.series) * 0.75) + legend_height
    else:
        height = 220 + legend_height + (18 if any("\n" in label for label in chart.labels) else 0)
    kind = pygal.HorizontalBar if horizontal else _QuarterBars
    drawing = kind(
        width=WIDTH,
        height=round(height),
        explicit_size=True,
        style=_STYLE,
        classes=["chart-svg", f"chart-{chart.key}"],
        js=[],
        css=[],
        no_prefix=True,
        disable_xml_declaration=True,
        show_legend=legend,
        legend_at_bottom=True,
        legend_at_bottom_columns=columns,
        print_values=True,
        print_values_position="top",
        value_formatter=formatter,
        formatter=formatter,
        y_labels=ticks,
        range=(0, ticks[-1]),
        show_y_guides=True,
        truncate_label=-1,
        truncate_legend=-1,
        margin=8,
        spacing=8,
        x_title=chart.axis_title or None,
        x_labels_major_every=_label_every(rows, horizontal),
        show_minor_x_labels=_label_every(rows, horizontal) is None,
    )
    # pygal draws a horizontal chart's first bar at the bottom: reversed, the first (the largest) is on top.
    order = slice(None, None, -1) if horizontal else slice(None)
    drawing.x_labels = chart.labels[order]
    for series in chart.series:
        drawing.add(series.name, series.values[order])
    drawing.add_xml_filter(_strip_for_csp(f"chart-{chart.key}", chart.finding))
    return Markup(drawing.render(is_unicode=True))


def _label_every(rows: int, horizontal: bool) -> int | None:
    """Every n-th quarter labelled when they would not fit side by side (about 70 px each)."""
    fits = WIDTH // 70
    return None if horizontal or rows <= fits else -(-rows // fits)


# --- the tiles' small trend ----------------------------------------------------------------------------

SPARK_WIDTH, SPARK_HEIGHT = 96, 28


@dataclass(frozen=True)
class SparkBar:
    x: float
    y: float
    width: float
    height: float


def sparkline(values: list[float | None]) -> list[SparkBar]:
    """Bar geometry for a tile's small trend (a picture of the tile's words: it carries no text itself)."""
    if not values:
        return []
    peak = max((v for v in values if v is not None), default=0) or 1
    slot = SPARK_WIDTH / len(values)
    bars = []
    for i, value in enumerate(values):
        height = max(1.0, (SPARK_HEIGHT - 2) * (value or 0) / peak) if value is not None else 0.0
        bars.append(
            SparkBar(
                round(i * slot + slot * 0.15, 1),
                round(SPARK_HEIGHT - height, 1),
                round(slot * 0.7, 1),
                round(height, 1),
            )
        )
    return bars
