"""Orders and case reports (Art. 13; Annex 2 item 6 and note 2).

The institution marks a consultation [已成交]; that drafts its case report (成功服务案例) from the thread.
The enterprise confirms the deal ([确认成交]: a valid order) or says it is not so ([不属实]). The
institution completes the report and submits it ([报送案例]) to the operator and the authority.
"""

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.consultations.services import ConsultRefused, managed_institution, side_of
from qzt.core import audit, clock, notifications
from qzt.extensions import db
from qzt.models import (
    CaseReport,
    CaseState,
    Consultation,
    DealState,
    Enterprise,
    Institution,
    Side,
    User,
)
from qzt.rules import orders
from qzt.rules.calendar import BEIJING, day_start


def mark_deal(consultation: Consultation, user: User, ip: str = "") -> CaseReport:
    """[已成交]: the institution says the consultation led to business; the case report is drafted."""
    if side_of(user, consultation) != Side.INSTITUTION:
        raise ConsultRefused("只有机构可以标记成交")
    if consultation.deal_state != DealState.NONE:
        raise ConsultRefused("该咨询已标记过成交")
    consultation.deal_state, consultation.deal_marked_at = DealState.CLAIMED, clock.now()
    case = CaseReport(
        consultation_id=consultation.id,
        institution_id=consultation.institution_id,
        asked_at=consultation.asked_at,
        client_name=_client_name(consultation.client),
        client_contact=consultation.client.phone,
        topic=consultation.topic,
        details=_first(consultation, Side.CLIENT),
        reply_summary=_first(consultation, Side.INSTITUTION),
        deal_status="已成交",
    )
    db.session.add(case)
    db.session.flush()
    audit.record(user, "mark_deal", consultation, after={"deal_state": "claimed"}, ip=ip)
    notifications.notify(
        consultation.client,
        "deal_claimed",
        "请确认成交",
        f"“{consultation.institution.name}”表示您关于“{consultation.topic}”的咨询已成交，请登录确认。",
        sms_params={"name": consultation.institution.name[:20]},
    )
    return case


def confirm_deal(consultation: Consultation, user: User, confirmed: bool, ip: str = "") -> None:
    """[确认成交] or [不属实], by the enterprise that asked."""
    if side_of(user, consultation) != Side.CLIENT:
        raise ConsultRefused("只有咨询的企业可以确认成交")
    if consultation.deal_state != DealState.CLAIMED:
        raise ConsultRefused("该咨询当前没有待确认的成交")
    consultation.deal_state = DealState.CONFIRMED if confirmed else DealState.DISPUTED
    if confirmed:
        consultation.deal_confirmed_at = clock.now()
    audit.record(
        user, "confirm_deal", consultation, after={"deal_state": consultation.deal_state.value}, ip=ip
    )


def _client_name(client: User) -> str:
    company = db.session.scalar(sa.select(Enterprise.name).where(Enterprise.user_id == client.id))
    return company or client.name


def _first(consultation: Consultation, side: Side) -> str:
    return next((m.body for m in consultation.messages if m.side == side), "")


@dataclass(frozen=True)
class CaseInput:
    """The Art. 13 fields as the institution edits them."""

    client_name: str
    client_contact: str
    topic: str
    details: str
    reply_summary: str
    deal_status: str
    saved_amount: Decimal | None


def save(case: CaseReport, given: CaseInput) -> None:
    if case.state != CaseState.DRAFT:
        raise ConsultRefused("案例已报送，不能再修改")
    for name, value in vars(given).items():
        setattr(case, name, value)


def submit(case: CaseReport, user: User, ip: str = "") -> None:
    """[报送案例]: every Art. 13 field filled in; then it is the operator's and the authority's."""
    missing = [label for name, label in FIELD_LABELS.items() if not str(getattr(case, name) or "").strip()]
    if missing:
        raise ConsultRefused("请填写：" + "、".join(missing))
    case.state, case.submitted_at = CaseState.SUBMITTED, clock.now()
    audit.record(user, "submit_case", case, after={"state": "submitted"}, ip=ip)


FIELD_LABELS = {
    "client_name": "客户名称",
    "client_contact": "客户联系方式",
    "topic": "咨询项目",
    "details": "具体内容",
    "reply_summary": "答复情况",
    "deal_status": "后续业务成交情况",
    "saved_amount": "为客户节省金额",
}


def case_of_user(case_id: int, user: User) -> CaseReport | None:
    """The case report if `user` answers for its institution (None for anyone else: a 404)."""
    case = db.session.get(CaseReport, case_id)
    if case is None:
        return None
    institution = managed_institution(user)
    return case if institution is not None and institution.id == case.institution_id else None


def for_institution(institution: Institution) -> list[CaseReport]:
    stmt = (
        sa.select(CaseReport)
        .where(CaseReport.institution_id == institution.id)
        .order_by(CaseReport.id.desc())
    )
    return list(db.session.scalars(stmt))


def reported(institution_id: int | None, start: date | None, end: date | None) -> list[CaseReport]:
    """Submitted reports, newest first, of one institution or all, submitted from start to end (Beijing)."""
    stmt = sa.select(CaseReport).where(CaseReport.state == CaseState.SUBMITTED)
    stmt = stmt.options(selectinload(CaseReport.institution))  # every row shows its institution
    if institution_id:
        stmt = stmt.where(CaseReport.institution_id == institution_id)
    if start:
        stmt = stmt.where(CaseReport.submitted_at >= day_start(start))
    if end:
        stmt = stmt.where(CaseReport.submitted_at < day_start(end + timedelta(days=1)))
    return list(db.session.scalars(stmt.order_by(CaseReport.submitted_at.desc())))


@dataclass(frozen=True)
class Progress:
    """The workbench's count for this year of service: reported cases (item 6) and valid orders (note 2)."""

    year: int
    start: date
    end: date
    cases: int
    cases_required: int
    orders: int
    orders_required: int


def progress(institution: Institution, today: date) -> Progress | None:
    if institution.opened_on is None:
        return None
    year, start, end = orders.service_year(institution.opened_on, today)
    window = (day_start(start), day_start(end))
    cases = sa.select(sa.func.count()).where(
        CaseReport.institution_id == institution.id,
        CaseReport.state == CaseState.SUBMITTED,
        CaseReport.submitted_at >= window[0],
        CaseReport.submitted_at < window[1],
    )
    deals = sa.select(sa.func.count()).where(
        Consultation.institution_id == institution.id,
        Consultation.deal_state == DealState.CONFIRMED,
        Consultation.deal_confirmed_at >= window[0],
        Consultation.deal_confirmed_at < window[1],
    )
    return Progress(
        year,
        start,
        end,
        db.session.scalar(cases) or 0,
        orders.CASES_PER_YEAR,
        db.session.scalar(deals) or 0,
        orders.required_orders(set(institution.category_slugs), year),
    )


EXPORT_COLUMNS = ("机构名称", "咨询时间", *FIELD_LABELS.values(), "报送时间")


def export_xlsx(cases: list[CaseReport]) -> bytes:
    """The reports as an Excel workbook (openpyxl), one row each, money as a number in 元."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "成功服务案例"
    sheet.append(EXPORT_COLUMNS)
    for c in cases:
        sheet.append(
            [
                c.institution.name,
                c.asked_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
                c.client_name,
                c.client_contact,
                c.topic,
                c.details,
                c.reply_summary,
                c.deal_status,
                float(c.saved_amount) if c.saved_amount is not None else None,
                c.submitted_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if c.submitted_at else "",
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
