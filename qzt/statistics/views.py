"""数据统计: one page of charts with their tables, and the same tables as Excel."""

from flask import abort, render_template, request

from qzt.auth.permissions import staff_required
from qzt.core import charts, clock, tables
from qzt.core.tables import Table
from qzt.rules import statistics as rules
from qzt.statistics import bp, services

# How each table is drawn: the columns it plots, horizontal (long labels) or by month, stacked or not,
# and where colour carries meaning, its palette (site.css).
DRAWN = {
    "categories": ((1, 2), True, True, ""),
    "districts": ((1, 2), True, True, ""),
    "applications": ((1, 2, 3), False, False, "decisions"),  # submitted blue, approved green, rejected red
    "consultations": ((2, 3, 4), False, True, "outcome"),  # on time green, late red, waiting gold
    "orders": ((1,), False, False, ""),
    "ratings": ((1, 2), False, False, ""),  # all blue, 差评 red
    "complaints": ((3, 2, 4), False, True, "outcome"),  # unfounded green, substantiated red, pending gold
}


def chart(table: Table):
    columns, horizontal, stacked, palette = DRAWN[table.key]
    labels = None if horizontal else short_months(table.column(0))
    return charts.of_table(
        table, columns, horizontal=horizontal, stacked=stacked, labels=labels, palette=palette
    )


def short_months(labels: list[str]) -> list[str]:
    """2025年12月, 2026年1月… drawn as 25年12月, 26年1月, 2月…: the year where it starts and changes."""
    short = []
    for n, label in enumerate(labels):
        year, _, month = label.partition("年")
        short.append(f"{year[2:]}年{month}" if n == 0 or month == "1月" else month)
    return short


def _period() -> rules.Period:
    return services.period_of(request.args.get("period"), clock.today())


@bp.get("/staff/statistics")
@staff_required
def index():
    today = clock.today()
    period = _period()
    figures = services.tables(period)
    return render_template(
        "statistics/index.html",
        period=period,
        choice=request.args.get("period", ""),
        years=services.years(today),
        figures=[(table, chart(table)) for table in figures],
    )


@bp.get("/staff/statistics.xlsx")
@staff_required
def export_all():
    period = _period()
    data = tables.xlsx(services.tables(period), heading=period.label)
    return tables.download(data, tables.XLSX, "statistics.xlsx", f"数据统计-{period.label}.xlsx")


@bp.get("/staff/statistics/<key>.xlsx")
@staff_required
def export_one(key: str):
    if key not in services.SECTIONS:
        abort(404)
    period = _period()
    (table,) = services.tables(period, (key,))
    data = tables.xlsx([table], heading=period.label)
    return tables.download(data, tables.XLSX, f"{key}.xlsx", f"{table.title}-{period.label}.xlsx")
