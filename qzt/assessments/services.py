"""The annual assessment (Art. 16–17): opening each ended cycle's sheet, the operator's review, the
authority's decision, the institution's self-summary. Every step is audited and the next person told."""

import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.assessments import records
from qzt.core import audit, clock, notifications
from qzt.core import calendar as work_days
from qzt.extensions import db
from qzt.models import (
    AnnualSummary,
    Assessment,
    AssessmentItem,
    AssessmentState,
    Institution,
    ListingState,
    Role,
    StoredFile,
    User,
)
from qzt.rules import assessment as rules
from qzt.rules.calendar import to_beijing

LEFT = (ListingState.WITHDRAWN, ListingState.EXPELLED, ListingState.REMOVED)
REVIEWERS = (Role.OPERATOR, Role.ADMIN)


class AssessmentRefused(ValueError):
    """What stops the step, in Chinese."""


def _owner(inst: Institution) -> list[User]:
    owner = db.session.get(User, inst.owner_id) if inst.owner_id else None
    return [owner] if owner is not None else []


# --- opening ---


def left_on(inst: Institution) -> date | None:
    """The day an institution that withdrew, was expelled or removed left the platform."""
    if inst.listing_state in LEFT and inst.closed_at is not None:
        return to_beijing(inst.closed_at).date()
    return None


def open_due(today: date) -> list[Assessment]:
    """`qzt assessments open`: an assessment for every cycle ended by `today` that has none. Idempotent."""
    have = set(db.session.execute(sa.select(Assessment.institution_id, Assessment.cycle_number)).all())
    candidates = sa.select(Institution).where(
        Institution.opened_on.is_not(None),
        Institution.opened_on <= rules.add_months(today, -(rules.GRACE_MONTHS + rules.CYCLE_MONTHS)),
        Institution.listing_state != ListingState.PENDING,
    )
    opened = []
    for inst in db.session.scalars(candidates.order_by(Institution.id)):
        for c in rules.ended_cycles(inst.opened_on, today, left_on(inst)):
            if (inst.id, c.number) not in have:
                opened.append(_open(inst, c))
    if opened:
        notifications.notify_once(
            notifications.staff(*REVIEWERS),
            "assessments_opened",
            "年度考核待审核",
            f"{len(opened)}份入驻机构年度考核评分表已按记录预填，请逐项审核后提交审定。",
            key=f"assessments-opened:{today.isoformat()}",
        )
    db.session.flush()
    return opened


def _open(inst: Institution, c: rules.Cycle) -> Assessment:
    assessment = Assessment(
        institution_id=inst.id,
        institution_name=inst.name,
        cycle_number=c.number,
        cycle_start=c.start,
        cycle_end=c.end,
        code=secrets.token_urlsafe(12),
    )
    for filled in records.prefill(inst, c):
        assessment.items.append(
            AssessmentItem(
                number=filled.number,
                computed=filled.deducts,
                judgement=filled.judgement,
                summary=filled.summary,
                evidence=filled.evidence,
            )
        )
    db.session.add(assessment)
    db.session.flush()
    audit.record(
        None, "assessment_opened", assessment, after={"cycle": c.number, "score": current_score(assessment)}
    )
    return assessment


# --- the score ---


def deducted(assessment: Assessment) -> list[int]:
    return [item.number for item in assessment.items if item.deducts]


def current_score(assessment: Assessment) -> int:
    """The score as the items stand (the computed value where the operator has not decided)."""
    return rules.score(deducted(assessment))


def undecided(assessment: Assessment) -> list[int]:
    """Items nobody can score yet: 待人工判断 and judgements the operator has not confirmed."""
    return [i.number for i in assessment.items if i.decided is None and (i.computed is None or i.judgement)]


# --- the operator's review ---


@dataclass(frozen=True)
class Decision:
    number: int
    deducts: bool | None  # None: not chosen
    reason: str


def review(
    assessment: Assessment, by: User, decisions: list[Decision], submit: bool, ip: str = ""
) -> dict[int, str]:
    """Save the operator's [是]/[否] per item; with `submit`, [提交审定]. Returns what to fix per item
    (nothing is saved then); an override of a computed value needs its reason."""
    if assessment.state != AssessmentState.REVIEWING:
        raise AssessmentRefused("该考核已提交审定，不能再修改")
    items = {i.number: i for i in assessment.items}
    problems = {}
    for d in decisions:
        item = items.get(d.number)
        if item is None:
            continue
        if d.deducts is None and submit:
            problems[d.number] = "请选择是否扣分"
        elif (
            d.deducts is not None
            and item.computed is not None
            and d.deducts != item.computed
            and not d.reason.strip()
        ):
            problems[d.number] = "与系统预填结果不同，请写明理由"
    missing = [n for n in rules.ITEM_NUMBERS if n not in {d.number for d in decisions}]
    if submit:
        for n in missing:
            problems.setdefault(n, "请选择是否扣分")
    if problems:
        return problems
    now = clock.now()
    for d in decisions:
        item = items.get(d.number)
        if item is None or (d.deducts == item.decided and d.reason.strip() == item.reason):
            continue
        before = {"decided": item.decided, "reason": item.reason}
        item.decided, item.reason = d.deducts, d.reason.strip()
        item.decided_by_id, item.decided_at = by.id, now
        audit.record(
            by,
            "assessment_item",
            assessment,
            before={"item": item.number, **before},
            after={"item": item.number, "decided": item.decided, "reason": item.reason},
            ip=ip,
        )
    if submit:
        _submit(assessment, by, now, ip)
    db.session.flush()
    return {}


def _submit(assessment: Assessment, by: User, now, ip: str) -> None:
    assessment.state = AssessmentState.SUBMITTED
    assessment.submitted_at, assessment.submitted_by_id = now, by.id
    assessment.returned_note = ""
    score = current_score(assessment)
    audit.record(by, "assessment_submitted", assessment, after={"score": score}, ip=ip)
    notifications.notify_all(
        notifications.staff(Role.AUTHORITY),
        "assessment_submitted",
        "年度考核待审定",
        f"“{assessment.institution_name}”第{assessment.cycle_number}个考核周期评分表已提交审定（{score}分）。",
    )


# --- the authority's decision ---


def confirm(assessment: Assessment, by: User, ip: str = "") -> None:
    """[确认考核结果]: the score is fixed, the institution told; a fail proposes an expulsion (Art. 17)."""
    if assessment.state != AssessmentState.SUBMITTED:
        raise AssessmentRefused("只有待审定的考核可以确认")
    now = clock.now()
    score = current_score(assessment)
    assessment.state = AssessmentState.CONFIRMED
    assessment.confirmed_at, assessment.confirmed_by_id = now, by.id
    assessment.score, assessment.passed = score, rules.passed(score)
    audit.record(
        by, "assessment_confirmed", assessment, after={"score": score, "passed": assessment.passed}, ip=ip
    )
    result = rules.result_label(score)
    notifications.notify_all(
        _owner(assessment.institution),
        "assessment_confirmed",
        "年度考核结果",
        f"“{assessment.institution_name}”第{assessment.cycle_number}个考核周期"
        f"（{assessment.cycle_start:%Y年%m月%d日}至{assessment.last_day:%Y年%m月%d日}）考核得分{score}分，{result}。"
        "请在机构工作台“年度考核”查看评分表。",
    )
    if not assessment.passed:
        assessment.expulsion_proposed_at = now
        audit.record(
            by, "assessment_expulsion_proposed", assessment.institution, note=f"考核{score}分，不合格", ip=ip
        )
        notifications.notify_all(
            notifications.staff(Role.AUTHORITY),
            "assessment_failed",
            "考核不合格，提请清退",
            f"“{assessment.institution_name}”年度考核{score}分，不合格。按《管理办法》第十七条提请清退，"
            "请在该机构的监管页面决定。",
        )
    db.session.flush()


def send_back(assessment: Assessment, by: User, note: str, ip: str = "") -> None:
    """[退回修改]: back to the operator with the authority's note."""
    if assessment.state != AssessmentState.SUBMITTED:
        raise AssessmentRefused("只有待审定的考核可以退回")
    if not note.strip():
        raise AssessmentRefused("请写明退回的理由")
    assessment.state = AssessmentState.REVIEWING
    assessment.returned_note = note.strip()
    audit.record(by, "assessment_returned", assessment, note=assessment.returned_note, ip=ip)
    submitter = db.session.get(User, assessment.submitted_by_id) if assessment.submitted_by_id else None
    notifications.notify_all(
        [submitter] if submitter is not None else notifications.staff(*REVIEWERS),
        "assessment_returned",
        "年度考核被退回",
        f"“{assessment.institution_name}”第{assessment.cycle_number}个考核周期评分表被退回：{assessment.returned_note}",
    )
    db.session.flush()


# --- lists ---


@dataclass(frozen=True)
class Filters:
    year: int | None = None  # the year the cycle ended in
    number: int | None = None
    state: AssessmentState | None = None
    ids: tuple[int, ...] = ()


def listed(filters: Filters) -> sa.Select:
    stmt = sa.select(Assessment)
    if filters.year:
        stmt = stmt.where(
            Assessment.cycle_end > date(filters.year, 1, 1),
            Assessment.cycle_end <= date(filters.year + 1, 1, 1),
        )
    if filters.number:
        stmt = stmt.where(Assessment.cycle_number == filters.number)
    if filters.state:
        stmt = stmt.where(Assessment.state == filters.state)
    if filters.ids:
        stmt = stmt.where(Assessment.id.in_(filters.ids))
    return stmt.order_by(Assessment.cycle_end.desc(), Assessment.institution_name, Assessment.id)


def page(filters: Filters, number: int, per_page: int = 50):
    """One page of the list (Flask-SQLAlchemy's Pagination), items loaded with their assessments."""
    stmt = listed(filters).options(selectinload(Assessment.items))
    return db.paginate(stmt, page=number, per_page=per_page, error_out=False, count=True)


def count(filters: Filters) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(listed(filters).order_by(None).subquery())
    )


def years() -> list[int]:
    ends = db.session.scalars(sa.select(Assessment.cycle_end).distinct()).all()
    return sorted({(date.fromordinal(e.toordinal() - 1)).year for e in ends}, reverse=True)


def max_cycle() -> int:
    return db.session.scalar(sa.select(sa.func.max(Assessment.cycle_number))) or 1


def by_code(code: str) -> Assessment | None:
    return db.session.scalar(sa.select(Assessment).where(Assessment.code == code))


def of_institution(inst: Institution) -> list[Assessment]:
    stmt = sa.select(Assessment).where(Assessment.institution_id == inst.id)
    return list(db.session.scalars(stmt.order_by(Assessment.cycle_number.desc())))


def owned_institution(user: User) -> Institution | None:
    if user.role != Role.INSTITUTION:
        return None
    return db.session.scalar(sa.select(Institution).where(Institution.owner_id == user.id))


# --- the annual self-summary (年度服务总结) ---


@dataclass(frozen=True)
class SummaryWindow:
    cycle: rules.Cycle
    opens: date
    closes: date
    summary: AnnualSummary | None

    def is_open(self, today: date) -> bool:
        return self.opens <= today <= self.closes


def summary_windows(inst: Institution, today: date) -> list[SummaryWindow]:
    """The cycles whose summary window has opened by `today`, newest first, with what was uploaded."""
    if inst.opened_on is None:
        return []
    calendar = work_days.work_calendar()
    uploaded = {
        s.cycle_number: s
        for s in db.session.scalars(sa.select(AnnualSummary).where(AnnualSummary.institution_id == inst.id))
    }
    windows = []
    number = 1
    while True:
        c = rules.cycle(inst.opened_on, number)
        opens, closes = rules.summary_window(c, calendar)
        if opens > today:
            break
        windows.append(SummaryWindow(c, opens, closes, uploaded.get(number)))
        number += 1
    return windows[::-1]


def upload_summary(
    inst: Institution, by: User, cycle_number: int, stored: StoredFile, today: date
) -> AnnualSummary:
    window = next((w for w in summary_windows(inst, today) if w.cycle.number == cycle_number), None)
    if window is None or not window.is_open(today):
        raise AssessmentRefused("不在该考核周期年度服务总结的上传时间内")
    summary = window.summary
    if summary is None:
        summary = AnnualSummary(
            institution_id=inst.id, cycle_number=cycle_number, uploaded_by_id=by.id, file_id=stored.id
        )
        db.session.add(summary)
    else:
        summary.file_id, summary.uploaded_by_id, summary.uploaded_at = stored.id, by.id, clock.now()
    db.session.flush()
    audit.record(by, "annual_summary", inst, after={"cycle": cycle_number, "file": stored.id})
    return summary


def summary_of(assessment: Assessment) -> AnnualSummary | None:
    return db.session.scalar(
        sa.select(AnnualSummary).where(
            AnnualSummary.institution_id == assessment.institution_id,
            AnnualSummary.cycle_number == assessment.cycle_number,
        )
    )
