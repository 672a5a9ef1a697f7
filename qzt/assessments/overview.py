"""A cycle's overview for the authority (Art. 16): how many passed, failed and are still pending, how the
confirmed scores are spread, and how often each of the ten items deducted. It covers the list's year and
cycle filters, whatever state is chosen; scores and deductions count confirmed sheets only."""

from dataclasses import dataclass

import sqlalchemy as sa

from qzt.assessments.services import Filters, listed
from qzt.core.tables import Table
from qzt.extensions import db
from qzt.models import Assessment, AssessmentItem, AssessmentState
from qzt.rules import assessment as rules
from qzt.rules import statistics


@dataclass(frozen=True)
class Overview:
    passed: int
    failed: int
    submitted: int  # 待审定
    reviewing: int  # 待运维审核
    average: float | None  # of the confirmed scores
    bands: Table
    items: Table

    @property
    def confirmed(self) -> int:
        return self.passed + self.failed

    @property
    def pending(self) -> int:
        return self.submitted + self.reviewing


def overview(filters: Filters) -> Overview:
    chosen = listed(Filters(year=filters.year, number=filters.number)).order_by(None).subquery()
    states = dict(
        db.session.execute(sa.select(chosen.c.state, sa.func.count()).group_by(chosen.c.state)).all()
    )
    confirmed = sa.select(chosen.c.id).where(chosen.c.state == AssessmentState.CONFIRMED)
    scores = dict(
        db.session.execute(
            sa.select(Assessment.score, sa.func.count())
            .where(Assessment.id.in_(confirmed))
            .group_by(Assessment.score)
        ).all()
    )
    passed = sum(n for s, n in scores.items() if rules.passed(s))
    total = sum(scores.values())
    return Overview(
        passed=passed,
        failed=total - passed,
        submitted=states.get(AssessmentState.SUBMITTED, 0),
        reviewing=states.get(AssessmentState.REVIEWING, 0),
        average=sum(s * n for s, n in scores.items()) / total if total else None,
        bands=_bands(scores),
        items=_items(confirmed, total),
    )


def _bands(scores: dict[int, int]) -> Table:
    counted = dict.fromkeys((label for _low, _high, label in statistics.SCORE_BANDS), 0)
    for score, n in scores.items():
        counted[statistics.score_band(score)] += n
    return Table(
        "scores",
        "得分分布",
        ("得分", "机构数"),
        list(counted.items())[::-1],
        note="已确认的考核；60分及以上为合格。",
    )


def _items(confirmed: sa.Select, total: int) -> Table:
    deducts = sa.func.coalesce(AssessmentItem.decided, AssessmentItem.computed).is_(True)
    counted = dict(
        db.session.execute(
            sa.select(AssessmentItem.number, sa.func.sum(sa.case((deducts, 1), else_=0)))
            .where(AssessmentItem.assessment_id.in_(confirmed))
            .group_by(AssessmentItem.number)
        ).all()
    )
    return Table(
        "items",
        "各项扣分率",
        ("考核项", "考核内容", "扣分份数", "扣分率"),
        [
            (
                f"第{item.number}项",
                item.content,
                int(counted.get(item.number) or 0),
                statistics.percent(statistics.rate(int(counted.get(item.number) or 0), total)),
            )
            for item in rules.ITEMS
        ],
        note="扣分份数 ÷ 已确认的考核份数；运维机构改判的，按改判后的结论计。",
        text_columns=(0, 1),
    )


def results(summary: Overview) -> Table:
    """The counts at the overview's head, as a table for the download."""
    return Table(
        "results",
        "考核结果",
        ("结果", "份数"),
        [
            ("合格", summary.passed),
            ("不合格", summary.failed),
            ("待审定", summary.submitted),
            ("待运维审核", summary.reviewing),
        ],
        note="" if summary.average is None else f"已确认考核的平均分：{summary.average:.1f}分。",
    )
