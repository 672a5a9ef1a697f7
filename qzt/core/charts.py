"""Charts drawn on the server as SVG (pygal), placed in the page as they are: no JavaScript, no CDN.

pygal puts its CSS in a <style> element inside each chart and gives each chart a random id to scope it;
our Content-Security-Policy allows no inline style. So each chart is rendered, its <style>, scripts,
comments, style attributes and id are taken out, and the CSS is served once as /charts.css with
pygal's per-chart id replaced by the class every chart carries. Pages with charts link it in their head.
"""

import sys
import xml.etree.ElementTree as ET
from functools import lru_cache

import pygal
from flask import Blueprint, Response
from markupsafe import Markup
from pygal.style import Style

from qzt.core.tables import Table

bp = Blueprint("charts", __name__)

# pygal appends a finder for its map plugins (which we do not use) to sys.meta_path; it implements only the
# legacy find_module, so every failed import in the process (optional dependencies probe for their own)
# then raises an ImportWarning. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

SVG_NS = "http://www.w3.org/2000/svg"

FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#7b8794",
    opacity="0.9",
    opacity_hover="1",
    colors=("#0b5cad", "#b42318", "#c98a1b", "#1b6e35", "#7b8794", "#5b3fa8"),
    font_family=FONTS,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=13,
    title_font_size=16,
)
CONFIG = dict(
    style=STYLE,
    js=[],
    disable_xml_declaration=True,
    width=560,
    height=300,
    legend_at_bottom=True,
    print_values=False,
    show_y_guides=True,
    truncate_label=-1,
    truncate_legend=-1,
    margin=8,
)
CLASS = "pygal-chart"
STEPS = tuple(m * 10**k for k in range(15) for m in (1, 2, 5))


def of_table(
    table: Table,
    columns: tuple[int, ...],
    *,
    horizontal: bool = False,
    stacked: bool = False,
    labels: list[str] | None = None,
    palette: str = "",
) -> Markup | None:
    """A table's figure columns drawn against its first column, or None when every figure is 0 (the
    page then says so beside the table, rather than an empty grid). `palette` names a colour scheme of
    site.css where colour says something ("outcome": good green, bad red, pending gold)."""
    if table.empty:
        return None
    series = {table.columns[c]: table.column(c) for c in columns}
    labels = labels or [str(label) for label in table.column(0)]
    draw = horizontal_bar if horizontal else bar
    label = f"{table.title}的图表，数字见本节表格"
    return render(draw(labels, series, stacked=stacked), label, palette)


def bar(labels: list[str], series: dict[str, list], *, stacked: bool = False, **options):
    """Bars per label (months, bands, …), one colour per series."""
    kind = pygal.StackedBar if stacked else pygal.Bar
    rotation = 30 if len(labels) > 8 else 0
    return _chart(kind, labels, series, stacked, x_label_rotation=rotation, **options)


def horizontal_bar(labels: list[str], series: dict[str, list], *, stacked: bool = False, **options):
    """For long labels (categories, districts): one bar per label, read top to bottom."""
    kind = pygal.HorizontalStackedBar if stacked else pygal.HorizontalBar
    height = max(200, 80 + 22 * len(labels))
    # pygal measures label widths as if every character were narrow; Chinese ones are a full em.
    widest = max((len(label) for label in labels), default=0)
    rows = {name: values[::-1] for name, values in series.items()}  # pygal draws the first at the bottom
    return _chart(kind, labels[::-1], rows, stacked, height=height, margin_left=8 + widest * 7, **options)


def _chart(kind, labels: list[str], series: dict[str, list], stacked: bool, **options):
    chart = kind(**{**CONFIG, **options})
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    chart.show_legend = len(series) > 1
    chart.y_labels = counts_axis(series, stacked)
    return chart


def counts_axis(series: dict[str, list], stacked: bool) -> list[int]:
    """Whole-number ticks from 0 to a round top above the largest bar (counts are never fractions)."""
    columns = list(zip(*series.values(), strict=True)) or [(0,)]
    top = max((sum(c) if stacked else max(c)) for c in columns) or 1
    step = next(s for s in STEPS if -(-top // s) <= 8)
    return list(range(0, -(-top // step) * step + 1, step))


def render(chart, label: str, palette: str = "") -> Markup:
    """The chart as inline SVG, fit for our CSP, named `label` for screen readers (role="img")."""
    # pygal's own output, not user XML; serialized again by ElementTree, which escapes all text.
    root = ET.fromstring(chart.render(is_unicode=True))  # nosec B314
    _strip(root)
    root.find(f"{{{SVG_NS}}}title").text = label
    root.set("class", f"{CLASS} {palette}".strip())
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("preserveAspectRatio", "xMinYMin meet")
    root.attrib.pop("id", None)
    for element in root.iter():  # HTML needs no namespace on inline SVG; ElementTree would write ns0:
        element.tag = element.tag.removeprefix(f"{{{SVG_NS}}}")
    return Markup(ET.tostring(root, encoding="unicode"))  # nosec B704


def _strip(element: ET.Element, top: bool = True) -> None:
    """Drop what CSP forbids (style, script, style attributes), comments, and the tooltips pygal hangs on
    axis guides (raw positions such as 0.0294)."""
    dropped = {f"{{{SVG_NS}}}style", f"{{{SVG_NS}}}script"} | (set() if top else {f"{{{SVG_NS}}}title"})
    for child in list(element):
        if not isinstance(child.tag, str) or child.tag in dropped:
            element.remove(child)
        else:
            child.attrib.pop("style", None)
            _strip(child, top=False)


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """pygal's CSS for our style, scoped by class instead of a chart's id (enough colours for 8 series)."""
    sample = pygal.Bar(**CONFIG)
    for n in range(8):
        sample.add(str(n), [n])
    # pygal's own output, not user XML:
    css = ET.fromstring(sample.render(is_unicode=True)).find(f".//{{{SVG_NS}}}style").text  # nosec B314
    css = css.replace(f"#chart-{sample.uuid}", f".{CLASS}")
    # Tooltips need pygal's script, which we leave out; the table beside each chart has the numbers.
    return css + f"\n.{CLASS} .tooltip{{display:none}}\n"


@bp.get("/charts.css")
def charts_css():
    response = Response(stylesheet(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
