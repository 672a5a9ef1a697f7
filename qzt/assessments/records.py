"""What a cycle's records say for each item of the score sheet (Annex 2): the prefill the operator reviews.

Each reader returns a Prefill: deduct or not (None: 待人工判断), a one-line summary for the sheet's 备注
and the evidence, each piece a reference ({"kind", "id", "text"}) the pages turn into a link. The
readings are written down in qzt.rules.assessment."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from qzt.core import calendar as work_days
from qzt.extensions import db
from qzt.models import (
    AuditRecord,
    CaseReport,
    CaseState,
    Complaint,
    ComplaintState,
    Consultation,
    CreditRecord,
    DealState,
    FollowUpState,
    Institution,
    Rating,
)
from qzt.rules import assessment as rules
from qzt.rules import complaints as complaint_rules
from qzt.rules import eligibility, orders, upkeep
from qzt.rules.assessment import Cycle
from qzt.rules.calendar import WORKING_DAY_REPLY, WorkCalendar, day_start, to_beijing
from qzt.rules.supervision import CREDIT_KINDS, credit_counts_for_item1

EVIDENCE_SHOWN = 20  # references kept per item; the summary gives the full count


@dataclass
class Prefill:
    number: int
    deducts: bool | None
    summary: str
    evidence: list[dict] = field(default_factory=list)
    judgement: bool = False


def _ref(kind: str, id_: int | None, text: str) -> dict:
    return {"kind": kind, "id": id_, "text": text}


def credit_records(institution_id: int, last_day: date) -> list[CreditRecord]:
    """Item 1's evidence: the records dated within the three years up to the cycle's last day."""
    stmt = sa.select(CreditRecord).where(CreditRecord.institution_id == institution_id)
    records = [r for r in db.session.scalars(stmt) if credit_counts_for_item1(r.recorded_on, last_day)]
    return sorted(records, key=lambda r: r.recorded_on)


def substantiated_complaints(institution_id: int, start: date, end: date) -> list[Complaint]:
    """Item 2's evidence: the complaints filed (Beijing date) in [start, end) and found 属实."""
    stmt = sa.select(Complaint).where(
        Complaint.institution_id == institution_id,
        Complaint.state == ComplaintState.SUBSTANTIATED,
        Complaint.created_at >= day_start(start) - timedelta(days=1),  # narrowed exactly below
        Complaint.created_at < day_start(end) + timedelta(days=1),
    )
    return [
        c
        for c in db.session.scalars(stmt.order_by(Complaint.created_at))
        if complaint_rules.counts_in_cycle(to_beijing(c.created_at).date(), start, end)
    ]


def item1(inst: Institution, c: Cycle) -> Prefill:
    records = credit_records(inst.id, c.last_day)
    refs = [
        _ref("credit", r.id, f"{r.recorded_on:%Y-%m-%d} {CREDIT_KINDS.get(r.kind, r.kind)}：{r.source}")
        for r in records
    ]
    summary = f"近三年信用记录{len(records)}条" if records else "近三年无违法违规、经营异常或失信记录"
    return Prefill(1, bool(records), summary, refs)


def item2(inst: Institution, c: Cycle) -> Prefill:
    found = substantiated_complaints(inst.id, c.start, c.end)
    refs = [_ref("complaint", x.id, f"{to_beijing(x.created_at):%Y-%m-%d} 投诉属实") for x in found]
    return Prefill(2, complaint_rules.item2_deducts(len(found)), f"周期内查实投诉{len(found)}件", refs)


def item3(inst: Institution, c: Cycle) -> Prefill:
    length = len((inst.introduction or "").strip())
    short = length < upkeep.INTRODUCTION_MIN
    summary = f"机构简介{length}字" + (f"，不足{upkeep.INTRODUCTION_MIN}字" if short else "")
    return Prefill(3, short, summary, [_ref("homepage", inst.id, "机构主页")])


def item4(inst: Institution, c: Cycle) -> Prefill:
    featured = [s.category for s in inst.services if s.featured]
    valid = [q for q in inst.qualifications if q.valid_until is None or q.valid_until >= c.last_day]
    refs = [_ref("homepage", inst.id, f"{q.name}（{_validity(q.valid_until)}）") for q in inst.qualifications]
    if not upkeep.certificate_required(featured):
        return Prefill(4, False, "优势服务均属第八条无需资质的类别", refs)
    if valid:
        return Prefill(4, False, f"周期末在有效期内的资质{len(valid)}份", refs)
    summary = "周期末无在有效期内的资质证书" if inst.qualifications else "未上传资质证书"
    return Prefill(4, True, summary, refs)


def _validity(valid_until: date | None) -> str:
    return "长期有效" if valid_until is None else f"有效期至{valid_until:%Y-%m-%d}"


def item5(inst: Institution, c: Cycle) -> Prefill:
    featured = [s for s in inst.services if s.featured]
    problems = []
    if not eligibility.FEATURED_MIN <= len(featured) <= eligibility.FEATURED_MAX:
        problems.append(f"优势服务项目{len(featured)}项")
    empty = [s.title for s in featured if not (s.content or "").strip()]
    if empty:
        problems.append("未填写服务内容：" + "、".join(empty))
    refs = [_ref("homepage", inst.id, s.title) for s in featured]
    summary = "；".join(problems) if problems else f"优势服务{len(featured)}项，内容完整"
    return Prefill(5, bool(problems), summary, refs, judgement=True)


def item6(inst: Institution, c: Cycle) -> Prefill:
    stmt = sa.select(CaseReport).where(
        CaseReport.institution_id == inst.id,
        CaseReport.state == CaseState.SUBMITTED,
        CaseReport.submitted_at >= day_start(c.start),
        CaseReport.submitted_at < day_start(c.end),
    )
    cases = list(db.session.scalars(stmt.order_by(CaseReport.submitted_at)))
    refs = [_ref("case", x.id, f"{to_beijing(x.submitted_at):%Y-%m-%d} {x.topic}") for x in cases]
    summary = f"周期内报送案例{len(cases)}个（要求不少于{orders.CASES_PER_YEAR}个）"
    return Prefill(6, len(cases) < orders.CASES_PER_YEAR, summary, refs)


def item7(inst: Institution, c: Cycle) -> Prefill:
    hidden = db.session.scalars(
        sa.select(AuditRecord).where(
            AuditRecord.object_type == Institution.__tablename__,
            AuditRecord.object_id == inst.id,
            AuditRecord.action == "hide_one_month_rule",
            AuditRecord.at >= day_start(c.start),
            AuditRecord.at < day_start(c.end),
        )
    ).all()
    without = [r for r in hidden if "客服人员" in (r.note or "")]
    refs = [_ref("agent", a.id, a.name) for a in inst.agents]
    refs += [
        _ref("timeline", inst.id, f"{to_beijing(r.at):%Y-%m-%d} 因未配置客服人员被隐藏") for r in without
    ]
    if not inst.agents:
        return Prefill(7, True, "考核时未配置客服人员", refs)
    if without:
        return Prefill(7, True, "周期内曾因未配置客服人员被隐藏主页", refs)
    return Prefill(7, False, f"客服人员{len(inst.agents)}名", refs)


def item8(inst: Institution, c: Cycle, calendar: WorkCalendar | None = None) -> Prefill:
    calendar = calendar or work_days.work_calendar()
    cutoff = day_start(c.end)
    stmt = sa.select(Consultation).where(
        Consultation.institution_id == inst.id,
        Consultation.asked_at >= day_start(c.start),
        Consultation.asked_at < cutoff,
    )
    working: list[timedelta] = []
    late: list[Consultation] = []
    for q in db.session.scalars(stmt.order_by(Consultation.asked_at)):
        replied = q.first_reply_at if q.first_reply_at is not None and q.first_reply_at < cutoff else None
        if calendar.allowance(q.asked_at) == WORKING_DAY_REPLY:
            working.append(calendar.response_time(q.asked_at, replied or cutoff))
        elif (replied or cutoff) > q.due_at:
            late.append(q)
    deducts = rules.replies_not_timely(working, len(late))
    parts = []
    if working:
        average = sum(working, timedelta()) / len(working)
        parts.append(f"工作日咨询{len(working)}条，平均响应{_hours(average)}")
    if late:
        parts.append(f"非工作日咨询超过6小时回复{len(late)}条")
    refs = [_ref("consultation", q.id, f"{to_beijing(q.asked_at):%Y-%m-%d %H:%M} 非工作日超时") for q in late]
    return Prefill(8, deducts, "；".join(parts) or "周期内无咨询", refs)


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f}小时"


def item9(inst: Institution, c: Cycle) -> Prefill:
    stmt = sa.select(Consultation).where(
        Consultation.institution_id == inst.id,
        Consultation.deal_state == DealState.CONFIRMED,
        Consultation.deal_confirmed_at >= day_start(c.start),
        Consultation.deal_confirmed_at < day_start(c.end),
    )
    deals = list(db.session.scalars(stmt.order_by(Consultation.deal_confirmed_at)))
    required = orders.required_orders(set(inst.category_slugs), c.number)
    refs = [
        _ref("consultation", q.id, f"{to_beijing(q.deal_confirmed_at):%Y-%m-%d} {q.topic}") for q in deals
    ]
    summary = f"有效订单{len(deals)}单（第{c.number}年要求不少于{required}单）"
    return Prefill(9, len(deals) < required, summary, refs)


def item10(inst: Institution, c: Cycle) -> Prefill:
    stmt = sa.select(Rating).where(
        Rating.institution_id == inst.id,
        Rating.follow_up == FollowUpState.UNSATISFIED,
        Rating.created_at >= day_start(c.start),
        Rating.created_at < day_start(c.end),
    )
    unhappy = list(db.session.scalars(stmt.order_by(Rating.created_at)))
    refs = [
        _ref("rating", r.id, f"{to_beijing(r.created_at):%Y-%m-%d} {r.stars}星，跟进后不满意")
        for r in unhappy
    ]
    summary = f"差评跟进后不满意{len(unhappy)}条" if unhappy else "无跟进后不满意的差评"
    return Prefill(10, bool(unhappy), summary, refs)


READERS = (item1, item2, item3, item4, item5, item6, item7, item8, item9, item10)


def prefill(inst: Institution, c: Cycle) -> list[Prefill]:
    """The ten items as the records of cycle `c` fill them."""
    filled = []
    for read in READERS:
        item = read(inst, c)
        item.evidence = item.evidence[:EVIDENCE_SHOWN]
        filled.append(item)
    return filled
