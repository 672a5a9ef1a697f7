"""The staff queue: applications by state, filtered and searched, oldest waiting first."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.data.catalog import CATEGORY_NAMES, DISTRICT_NAMES
from qzt.extensions import db
from qzt.models import Application, ApplicationState, User
from qzt.rules.calendar import WorkCalendar, to_beijing

QUEUE_STATES = [s for s in ApplicationState if s != ApplicationState.DRAFT]


@dataclass(frozen=True)
class QueueFilters:
    state: str | None = "submitted"
    category: str | None = None
    district: str | None = None
    mine: bool = False
    q: str = ""

    @classmethod
    def from_args(cls, args) -> "QueueFilters":
        state = args.get("state", "submitted")
        return cls(
            state=state if state in {s.value for s in QUEUE_STATES} else None,
            category=args.get("category") if args.get("category") in CATEGORY_NAMES else None,
            district=args.get("district") if args.get("district") in DISTRICT_NAMES else None,
            mine=args.get("mine") == "1",
            q=(args.get("q") or "").strip()[:100],
        )


def _filtered(filters: QueueFilters, user: User) -> sa.Select:
    stmt = sa.select(Application).where(Application.state != ApplicationState.DRAFT)
    if filters.category:
        stmt = stmt.where(Application.categories.contains(f" {filters.category} "))
    if filters.district:
        stmt = stmt.where(Application.district == filters.district)
    if filters.mine:
        stmt = stmt.where(Application.assignee_id == user.id)
    if filters.q:
        pattern = f"%{filters.q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(sa.or_(Application.name.like(pattern), Application.uscc.like(pattern.upper())))
    return stmt


def counts(filters: QueueFilters, user: User) -> dict[str, int]:
    """How many applications each state holds under the other filters."""
    base = _filtered(filters, user).subquery()
    rows = db.session.execute(sa.select(base.c.state, sa.func.count()).group_by(base.c.state)).all()
    return {state.value if hasattr(state, "value") else state: n for state, n in rows}


def applications(filters: QueueFilters, user: User, limit: int = 200) -> list[Application]:
    stmt = _filtered(filters, user)
    if filters.state:
        stmt = stmt.where(Application.state == ApplicationState(filters.state))
    stmt = stmt.options(selectinload(Application.assignee))  # shown on every row
    return list(db.session.scalars(stmt.order_by(Application.submitted_at, Application.id).limit(limit)))


def rows(filters: QueueFilters, user: User, today: date, calendar: WorkCalendar) -> list[tuple]:
    """The queue's rows: (application, working days waited, past its more-information deadline)."""
    return [
        (
            a,
            calendar.working_days_between(to_beijing(a.submitted_at).date(), today) if a.submitted_at else 0,
            a.is_overdue(today),
        )
        for a in applications(filters, user)
    ]
