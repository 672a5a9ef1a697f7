"""The figures of 数据统计: each a table of plain values (qzt.core.tables.Table), counted in the database
by one grouped query. How each is counted is written in qzt.rules.statistics and in the table's note."""

from datetime import date, datetime

import sqlalchemy as sa

from qzt.core import clock
from qzt.core.tables import Table
from qzt.data.catalog import CATEGORIES, DISTRICTS
from qzt.extensions import db
from qzt.models import (
    Application,
    ApplicationRevision,
    ApplicationState,
    Complaint,
    ComplaintState,
    Consultation,
    DealState,
    Institution,
    ListingState,
    Rating,
    ServiceItem,
)
from qzt.rules import ratings
from qzt.rules import statistics as rules
from qzt.rules.calendar import day_start, to_beijing

IN_REGISTER = (ListingState.LISTED, ListingState.HIDDEN)


def _by_month(column, period: rules.Period, *measures) -> dict[int, tuple]:
    """{month index: (measure, …)} for rows whose `column` (a moment) falls in the period's Beijing months.

    The month is a CASE over the months' Beijing boundaries, grouped in an outer query: the same SQL
    on SQLite and PostgreSQL, and no time-zone arithmetic in the database."""
    months = period.months
    bounds = [day_start(m) for m in [*months[1:], period.end]]
    index = sa.case(*[(column < bound, i) for i, bound in enumerate(bounds)], else_=None).label("month")
    rows = (
        sa.select(index, *[m.label(f"m{n}") for n, m in enumerate(measures)])
        .where(column >= day_start(period.first), column < day_start(period.end))
        .subquery()
    )
    grouped = sa.select(rows.c.month, *[sa.func.sum(rows.c[f"m{n}"]) for n in range(len(measures))]).group_by(
        rows.c.month
    )
    return {month: tuple(int(v or 0) for v in values) for month, *values in db.session.execute(grouped)}


def _one(condition) -> sa.ColumnElement:
    return sa.case((condition, 1), else_=0)


def _monthly_rows(period: rules.Period, counted: dict[int, tuple], width: int) -> list[tuple]:
    return [
        (rules.month_label(month), *counted.get(i, (0,) * width)) for i, month in enumerate(period.months)
    ]


def categories() -> Table:
    stmt = (
        sa.select(
            ServiceItem.category,
            Institution.listing_state,
            sa.func.count(sa.distinct(ServiceItem.institution_id)),
        )
        .join(Institution)
        .where(Institution.listing_state.in_(IN_REGISTER))
        .group_by(ServiceItem.category, Institution.listing_state)
    )

    return Table(
        "categories",
        "入驻机构（按服务类别）",
        ("服务类别", "公示中", "已隐藏"),
        _listed_and_hidden(CATEGORIES, stmt),
        note="截至今日；一家机构在其服务项目所属的每个类别各计一次。",
    )


def _listed_and_hidden(choices, stmt: sa.Select) -> list[tuple]:
    """A row per choice (category or district): listed and hidden institutions, from (slug, state, n)."""
    counted = {(slug, state): n for slug, state, n in db.session.execute(stmt)}
    return [
        (c.name, counted.get((c.slug, ListingState.LISTED), 0), counted.get((c.slug, ListingState.HIDDEN), 0))
        for c in choices
    ]


def districts() -> Table:
    stmt = (
        sa.select(Institution.district, Institution.listing_state, sa.func.count())
        .where(Institution.listing_state.in_(IN_REGISTER))
        .group_by(Institution.district, Institution.listing_state)
    )

    return Table(
        "districts",
        "入驻机构（按区）",
        ("所在区", "公示中", "已隐藏"),
        _listed_and_hidden(DISTRICTS, stmt),
        note="截至今日。",
    )


def applications(period: rules.Period) -> Table:
    first = sa.select(ApplicationRevision.submitted_at).where(ApplicationRevision.number == 1).subquery()
    submitted = _by_month(first.c.submitted_at, period, sa.literal(1))
    decided = _by_month(
        Application.decided_at,
        period,
        _one(Application.state == ApplicationState.APPROVED),
        _one(Application.state == ApplicationState.REJECTED),
    )
    return Table(
        "applications",
        "入驻申请与审核（按月）",
        ("月份", "新提交申请", "审定通过", "审定未通过"),
        [
            (rules.month_label(month), *submitted.get(i, (0,)), *decided.get(i, (0, 0)))
            for i, month in enumerate(period.months)
        ],
        note="新提交申请按首次提交的时间计（补充材料后再次提交不重复计）；审定按质量发展科作出决定的时间计。",
    )


def consultations(period: rules.Period, now: datetime | None = None) -> Table:
    now = now or clock.now()
    answered = Consultation.first_reply_at.is_not(None)
    timely = sa.and_(answered, Consultation.first_reply_at <= Consultation.due_at)
    late = sa.or_(
        Consultation.first_reply_at > Consultation.due_at, sa.and_(~answered, Consultation.due_at < now)
    )
    waiting = sa.and_(~answered, Consultation.due_at >= now)  # spelt out: NULL comparisons are not False
    counted = _by_month(Consultation.asked_at, period, sa.literal(1), _one(timely), _one(late), _one(waiting))
    rows = [(*row, _compliance(row[2], row[3])) for row in _monthly_rows(period, counted, 4)]
    sums = [sum(row[i] for row in rows) for i in range(1, 5)]
    return Table(
        "consultations",
        "在线咨询与第十四条答复（按月）",
        ("月份", "咨询", "按时答复", "超时", "待答复", "按时答复率"),
        rows,
        total=("合计", *sums, _compliance(sums[1], sums[2])),
        note="按提问时间计月。按时：首次答复在第十四条时限内；超时：晚于时限答复，或时限已过仍未答复；"
        "待答复：仍在时限内。按时答复率 = 按时 ÷（按时 + 超时）。",
    )


def _compliance(on_time: int, overdue: int) -> str:
    return rules.percent(rules.rate(on_time, on_time + overdue))


def orders(period: rules.Period) -> Table:
    counted = _by_month(
        Consultation.deal_confirmed_at, period, _one(Consultation.deal_state == DealState.CONFIRMED)
    )
    return Table(
        "orders",
        "有效订单（按月）",
        ("月份", "有效订单"),
        _monthly_rows(period, counted, 1),
        note="有效订单：机构标记成交、企业确认成交的咨询（附件2注2），按企业确认的时间计月。",
    )


def ratings_by_month(period: rules.Period) -> Table:
    negative = Rating.stars <= ratings.NEGATIVE_AT
    counted = _by_month(Rating.created_at, period, sa.literal(1), _one(negative), Rating.stars)
    rows = [
        (label, n, bad, f"{stars / n:.2f}" if n else "—")
        for label, n, bad, stars in _monthly_rows(period, counted, 3)
    ]
    return Table(
        "ratings",
        "服务评价（按月）",
        ("月份", "评价", f"差评（{ratings.NEGATIVE_AT}星及以下）", "平均星级"),
        rows,
        note="按评价时间计月；差评由运维机构跟踪处理（第十五条）。",
    )


def complaints(period: rules.Period) -> Table:
    counted = _by_month(
        Complaint.created_at,
        period,
        sa.literal(1),
        _one(Complaint.state == ComplaintState.SUBSTANTIATED),
        _one(Complaint.state == ComplaintState.UNFOUNDED),
        _one(Complaint.state == ComplaintState.PENDING),
    )
    return Table(
        "complaints",
        "投诉（按月）",
        ("月份", "投诉", "查实（属实）", "不属实", "待核查"),
        _monthly_rows(period, counted, 4),
        note="按投诉提交时间计月，结论为目前的核查结果。",
    )


SECTIONS = {
    "categories": lambda period: categories(),
    "districts": lambda period: districts(),
    "applications": applications,
    "consultations": consultations,
    "orders": orders,
    "ratings": ratings_by_month,
    "complaints": complaints,
}


def tables(period: rules.Period, keys=tuple(SECTIONS)) -> list[Table]:
    return [SECTIONS[key](period) for key in keys]


def years(today: date) -> list[int]:
    """The years since the platform's first record, newest first: the period's choices."""
    first = db.session.scalar(sa.select(sa.func.min(Institution.created_at)))
    start = today.year if first is None else min(to_beijing(first).year, today.year)
    return list(range(today.year, start - 1, -1))


def period_of(choice: str | None, today: date) -> rules.Period:
    """The page's period: one of `years`, else the last twelve months."""
    if choice and choice.isdigit() and int(choice) in years(today):
        return rules.year(int(choice))
    return rules.last_twelve_months(today)
