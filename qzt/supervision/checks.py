"""Spot checks (抽查, Art. 15) and credit records (Art. 5; Annex 2 item 1), recorded by staff.

Each is written to the institution's timeline; a spot check that is not 合格 tells the institution."""

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.core import audit, clock, notifications
from qzt.extensions import db
from qzt.models import CreditRecord, Institution, Role, SpotCheck, StoredFile, User
from qzt.rules import supervision as rules

RECORDERS = (Role.OPERATOR, Role.AUTHORITY)


class CheckRefused(ValueError):
    """What stops it, in Chinese."""


def record_spot_check(
    institution: Institution,
    by: User,
    *,
    checked_on: date | None,
    subject: str,
    finding: str,
    result: str,
    rectify_by: date | None,
    files: list[StoredFile],
    ip: str = "",
) -> SpotCheck:
    """[记录抽查]: the operator or the authority."""
    if by.role not in RECORDERS:
        raise CheckRefused("抽查由运维机构或管理单位记录")
    if checked_on is None:
        raise CheckRefused("请填写抽查日期")
    if not subject.strip():
        raise CheckRefused("请填写抽查内容")
    try:
        rules.check_spot_check(checked_on, clock.today(), result, rectify_by)
    except rules.SpotCheckProblem as problem:
        raise CheckRefused(str(problem)) from None
    check = SpotCheck(
        institution=institution,
        checked_on=checked_on,
        subject=subject.strip(),
        finding=finding.strip(),
        result=result,
        rectify_by=rectify_by if result == "rectify" else None,
        file_ids=[f.id for f in files],
        recorded_by_id=by.id,
    )
    db.session.add(check)
    db.session.flush()
    label = rules.SPOT_CHECK_RESULTS[result]
    audit.record(
        by,
        "spot_check",
        institution,
        after={"spot_check": check.id, "result": result},
        note=f"{subject.strip()}：{label}",
        ip=ip,
    )
    if result != "passed":
        deadline = f"，请于{rectify_by:%Y年%m月%d日}前完成整改" if result == "rectify" else ""
        _tell_institution(
            institution,
            "spot_check",
            f"平台抽查结果：{label}",
            f"{checked_on:%Y年%m月%d日}平台对“{subject.strip()}”的抽查结果为{label}{deadline}。"
            f"发现的问题：{finding.strip()[:300]}",
        )
    return check


def recheck(check: SpotCheck, by: User, outcome: str, note: str, ip: str = "") -> None:
    """[记录复查]: whether a 限期整改 was done."""
    if by.role not in RECORDERS:
        raise CheckRefused("复查由运维机构或管理单位记录")
    if not check.awaiting_recheck:
        raise CheckRefused("该抽查不需要复查")
    if outcome not in rules.RECHECK_RESULTS:
        raise CheckRefused("请选择复查结果")
    if not note.strip():
        raise CheckRefused("请填写复查情况")
    check.recheck, check.recheck_note, check.rechecked_at = outcome, note.strip(), clock.now()
    audit.record(
        by,
        "spot_check_recheck",
        check.institution,
        after={"spot_check": check.id, "recheck": outcome},
        note=note.strip(),
        ip=ip,
    )


def remind_rectifications(today: date) -> int:
    """`qzt tick`: tell the institution once a few days before a 整改 deadline and the operators once it
    has passed without a re-check."""
    waiting = (
        sa.select(SpotCheck)
        .where(SpotCheck.result == "rectify", SpotCheck.recheck.is_(None))
        .options(selectinload(SpotCheck.institution))
    )
    queued = 0
    operators = None
    for check in db.session.scalars(waiting):
        name = check.institution.name
        if check.rectify_by < today:
            operators = operators if operators is not None else notifications.staff(Role.OPERATOR)
            queued += notifications.notify_once(
                operators,
                "rectification_overdue",
                "整改期限已到，请复查",
                f"“{name}”的抽查整改期限{check.rectify_by:%Y年%m月%d日}已到，请复查并记录结果。",
                key=f"rectification-overdue:{check.id}",
            )
        elif check.rectify_by <= today + timedelta(days=rules.RECTIFY_REMINDER_DAYS):
            queued += notifications.notify_once(
                _owner(check.institution),
                "rectification_due",
                "抽查整改即将到期",
                f"贵机构的抽查整改期限为{check.rectify_by:%Y年%m月%d日}，请按期完成整改。",
                key=f"rectification-due:{check.id}",
            )
    return queued


def record_credit(
    institution: Institution,
    by: User,
    *,
    kind: str,
    recorded_on: date | None,
    source: str,
    description: str,
    ip: str = "",
) -> CreditRecord:
    """[记录信用信息]: a penalty, a listing or another violation, with its source and date."""
    if by.role not in RECORDERS:
        raise CheckRefused("信用信息由运维机构或管理单位记录")
    if kind not in rules.CREDIT_KINDS:
        raise CheckRefused("请选择信用信息类别")
    if recorded_on is None or recorded_on > clock.today():
        raise CheckRefused("请填写日期（不晚于今天）")
    if not source.strip():
        raise CheckRefused("请填写来源，如处罚决定书文号或公示系统")
    record = CreditRecord(
        institution_id=institution.id,
        kind=kind,
        recorded_on=recorded_on,
        source=source.strip(),
        description=description.strip(),
        recorded_by_id=by.id,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        by,
        "credit_record",
        institution,
        after={"credit_record": record.id, "kind": kind, "on": recorded_on.isoformat()},
        note=f"{rules.CREDIT_KINDS[kind]}：{source.strip()}",
        ip=ip,
    )
    return record


def spot_checks_of(institution: Institution) -> list[SpotCheck]:
    stmt = sa.select(SpotCheck).where(SpotCheck.institution_id == institution.id)
    return list(db.session.scalars(stmt.order_by(SpotCheck.checked_on.desc(), SpotCheck.id.desc())))


def credit_records_of(institution: Institution) -> list[CreditRecord]:
    stmt = sa.select(CreditRecord).where(CreditRecord.institution_id == institution.id)
    return list(db.session.scalars(stmt.order_by(CreditRecord.recorded_on.desc(), CreditRecord.id.desc())))


def files_by_id(ids: list[int]) -> dict[int, StoredFile]:
    if not ids:
        return {}
    return {f.id: f for f in db.session.scalars(sa.select(StoredFile).where(StoredFile.id.in_(ids)))}


def _owner(institution: Institution) -> list[User]:
    owner = db.session.get(User, institution.owner_id) if institution.owner_id else None
    return [owner] if owner is not None else []


def _tell_institution(institution: Institution, kind: str, title: str, body: str) -> None:
    for person in _owner(institution):
        notifications.notify(person, kind, title, body)


def recent(limit: int = 200) -> list[SpotCheck]:
    """The 限期整改 awaiting a re-check first (nearest deadline first), then the latest checks."""
    rows = db.session.scalars(
        sa.select(SpotCheck)
        .options(selectinload(SpotCheck.institution))
        .order_by(SpotCheck.checked_on.desc(), SpotCheck.id.desc())
        .limit(limit)
    ).all()
    waiting = sorted((c for c in rows if c.awaiting_recheck), key=lambda c: c.rectify_by)
    return waiting + [c for c in rows if not c.awaiting_recheck]
