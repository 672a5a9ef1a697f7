"""Complaints (投诉, Art. 15, 17; Annex 2 item 2): filing, the operator's check, 情节较重 and referral.

Every step is written to the institution's timeline (the audit trail) and the complainant is told."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.core import audit, calendar, clock, notifications
from qzt.extensions import db
from qzt.models import Complaint, ComplaintState, Institution, ListingState, Role, StoredFile, User
from qzt.rules import complaints as rules

BODY_MIN = 10
COMPLAINABLE = (ListingState.LISTED, ListingState.HIDDEN, ListingState.WITHDRAWN, ListingState.EXPELLED)


class ComplaintRefused(ValueError):
    """What stops it, in Chinese."""


def may_complain(user: User, institution: Institution) -> bool:
    """Anyone logged in but staff and those who answer for the institution."""
    return (
        user.is_authenticated
        and not user.is_staff
        and institution.listing_state in COMPLAINABLE
        and user.id not in {u.id for u in institution.answering_users()}
    )


def file(
    institution: Institution,
    user: User,
    *,
    agent_id: int | None,
    body: str,
    may_contact: bool,
    evidence: list[StoredFile],
    today: date,
    ip: str = "",
) -> Complaint:
    """[提交投诉]: against the institution or one of its agents; the operators are told."""
    if not may_complain(user, institution):
        raise ComplaintRefused("您不能投诉该机构")
    agent = next((a for a in institution.agents if a.id == agent_id), None)
    if agent_id is not None and agent is None:
        raise ComplaintRefused("请选择该机构的客服人员，或选择“不针对具体客服”")
    if len(body.strip()) < BODY_MIN:
        raise ComplaintRefused(f"请具体描述发生了什么（至少{BODY_MIN}个字）")
    if any(f.owner_id != user.id for f in evidence):
        raise ComplaintRefused("证据文件无效，请重新上传")
    complaint = Complaint(
        institution=institution,
        agent_id=agent.id if agent else None,
        agent_name=agent.name if agent else "",
        complainant_id=user.id,
        body=body.strip(),
        may_contact=may_contact,
        evidence_file_ids=[f.id for f in evidence],
        state=ComplaintState.PENDING,
        due_on=calendar.work_calendar().add_working_days(today, rules.VERIFY_WORKING_DAYS),
    )
    db.session.add(complaint)
    db.session.flush()
    audit.record(user, "complaint_filed", institution, after={"complaint": complaint.id}, ip=ip)
    for operator in notifications.staff(Role.OPERATOR):
        notifications.notify(
            operator,
            "complaint_filed",
            "收到新投诉",
            f"有用户投诉“{institution.name}”{('的客服' + agent.name) if agent else ''}，"
            f"请于{complaint.due_on:%Y年%m月%d日}前核查（《管理办法》第十七条）。",
        )
    return complaint


def verify(complaint: Complaint, by: User, substantiated: bool, note: str, ip: str = "") -> None:
    """[属实] or [不属实] by the operator (the authority may too), with notes."""
    if by.role not in (Role.OPERATOR, Role.AUTHORITY):
        raise ComplaintRefused("核查由运维机构进行")
    if not complaint.is_pending:
        raise ComplaintRefused(f"该投诉已核查：{complaint.state.label}")
    if not note.strip():
        raise ComplaintRefused("请填写核查情况")
    complaint.state = ComplaintState.SUBSTANTIATED if substantiated else ComplaintState.UNFOUNDED
    complaint.verified_at, complaint.verified_by_id = clock.now(), by.id
    complaint.verification_note = note.strip()
    audit.record(
        by,
        "complaint_verified",
        complaint.institution,
        after={"complaint": complaint.id, "result": complaint.state.value},
        note=note.strip(),
        ip=ip,
    )
    notifications.notify(
        complaint.complainant,
        "complaint_verified",
        "投诉核查结果",
        f"您对“{complaint.institution.name}”的投诉已核查，结果：{complaint.state.label}。",
    )
    if substantiated:
        for person in complaint.institution.answering_users():
            notifications.notify(
                person,
                "complaint_substantiated",
                "投诉经核查属实",
                f"平台收到的一件投诉经核查属实：{note.strip()[:200]}。查实投诉计入年度考核（附件2第2项）。",
            )


def propose_expulsion(complaint: Complaint, by: User, reason: str, ip: str = "") -> None:
    """[情节较重，提请清退]: the operator marks a substantiated complaint serious; the authority decides."""
    if by.role not in (Role.OPERATOR, Role.AUTHORITY):
        raise ComplaintRefused("由运维机构提请")
    if complaint.state != ComplaintState.SUBSTANTIATED:
        raise ComplaintRefused("只有查实的投诉可以认定情节较重")
    if complaint.serious:
        raise ComplaintRefused("已提请清退")
    if not reason.strip():
        raise ComplaintRefused("请说明情节较重的理由")
    complaint.serious, complaint.expulsion_proposed_at = True, clock.now()
    audit.record(
        by,
        "complaint_serious",
        complaint.institution,
        after={"complaint": complaint.id},
        note=reason.strip(),
        ip=ip,
    )
    for person in notifications.staff(Role.AUTHORITY):
        notifications.notify(
            person,
            "expulsion_proposed",
            "运维机构提请清退",
            f"“{complaint.institution.name}”的投诉经查实情节较重，运维机构提请清退，请决定（第十七条）。",
        )


def refer(complaint: Complaint, by: User, kind: str, body: str, on: date | None, ip: str = "") -> None:
    """移交 (Art. 15): to an administrative body or the judiciary, with its name and the date."""
    if by.role not in (Role.OPERATOR, Role.AUTHORITY):
        raise ComplaintRefused("移交由运维机构记录")
    if kind not in rules.REFERRAL_KINDS:
        raise ComplaintRefused("请选择移交给行政机关还是司法机关")
    if not body.strip():
        raise ComplaintRefused("请填写接收机关名称")
    if on is None or on > clock.today():
        raise ComplaintRefused("请填写移交日期（不晚于今天）")
    complaint.referral_kind, complaint.referral_body, complaint.referral_on = kind, body.strip(), on
    audit.record(
        by,
        "complaint_referred",
        complaint.institution,
        after={"complaint": complaint.id, "to": body.strip(), "on": on.isoformat()},
        note=rules.REFERRAL_KINDS[kind],
        ip=ip,
    )


def queue(today: date) -> list[Complaint]:
    """For the operator: pending first, overdue first; then proposals to the authority; then the rest."""
    rows = db.session.scalars(
        sa.select(Complaint).options(selectinload(Complaint.institution)).order_by(Complaint.id.desc())
    ).all()
    return sorted(rows, key=lambda c: (not c.is_pending, c.due_on if c.is_pending else today, -c.id))


def of_user(user: User) -> list[Complaint]:
    stmt = (
        sa.select(Complaint)
        .where(Complaint.complainant_id == user.id)
        .options(selectinload(Complaint.institution))
        .order_by(Complaint.id.desc())
    )
    return list(db.session.scalars(stmt))


def of_institution(institution: Institution) -> list[Complaint]:
    stmt = (
        sa.select(Complaint).where(Complaint.institution_id == institution.id).order_by(Complaint.id.desc())
    )
    return list(db.session.scalars(stmt))


def evidence_files(complaint: Complaint) -> list[StoredFile]:
    ids = complaint.evidence_file_ids or []
    if not ids:
        return []
    return list(db.session.scalars(sa.select(StoredFile).where(StoredFile.id.in_(ids))))


def remind_overdue(today: date) -> int:
    """`qzt tick`: tell the operators once when a complaint's check is past its deadline."""
    stmt = (
        sa.select(Complaint)
        .where(Complaint.state == ComplaintState.PENDING, Complaint.due_on < today)
        .options(selectinload(Complaint.institution))
    )
    overdue = list(db.session.scalars(stmt))
    if not overdue:
        return 0
    operators = notifications.staff(Role.OPERATOR)
    return sum(
        notifications.notify_once(
            operators,
            "complaint_overdue",
            "投诉核查已逾期",
            f"对“{c.institution.name}”的投诉应于{c.due_on:%Y年%m月%d日}前核查，已逾期。",
            key=f"complaint-overdue:{c.id}",
        )
        for c in overdue
    )
