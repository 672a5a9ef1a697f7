"""Homepage upkeep (Art. 13): the institution keeps its homepage current. Introduction, address, phone and
service items go live at once (audited: the operator has a feed of them); a new name or a new qualification
certificate goes live once the operator accepts it (变更审核)."""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from qzt.consultations.services import ConsultRefused, Upkeep
from qzt.consultations.services import upkeep as upkeep_status
from qzt.core import audit, clock, files, notifications
from qzt.core.calendar import work_calendar
from qzt.core.database import check_version
from qzt.data.catalog import CATEGORY_NAMES
from qzt.extensions import db
from qzt.models import (
    AuditRecord,
    ChangeState,
    HomepageChange,
    Institution,
    ListingState,
    Qualification,
    ServiceItem,
    User,
)
from qzt.rules import eligibility, phone, upkeep

EDIT = "edit_homepage"


@dataclass(frozen=True)
class HomepageInput:
    introduction: str
    address: str
    phone: str
    services: list[dict]  # category, title, content, featured; rows without a title are dropped


def problems(given: HomepageInput) -> dict[str, str]:
    """What to fix, keyed by input name; empty when the homepage may go live."""
    errors = {}
    if len(given.introduction.strip()) < upkeep.INTRODUCTION_MIN:
        errors["introduction"] = f"机构简介至少{upkeep.INTRODUCTION_MIN}个字，请介绍业务范围、能力和特色"
    if not given.address.strip():
        errors["address"] = "请填写详细地址"
    if not phone.is_contact_number(given.phone):
        errors["phone"] = "请填写手机号码或带区号的固定电话，如 0757-83301234"
    for i, row in enumerate(given.services):
        if row["title"] and row["category"] not in CATEGORY_NAMES:
            errors[f"s-{i}-category"] = "请选择服务类别"
    kept = [row for row in given.services if row["title"]]
    if found := eligibility.featured_problems(kept):
        errors["services"] = found[0]
    return errors


def _snapshot(institution: Institution) -> dict:
    return {
        "introduction": institution.introduction,
        "address": institution.address,
        "phone": institution.phone,
        "services": [[s.category, s.title, s.content, s.featured] for s in institution.services],
    }


def edit(institution: Institution, by: User, given: HomepageInput, ip: str = "") -> None:
    """The live part of the homepage, at once; audited with what it was and what it is."""
    if errors := problems(given):
        raise ConsultRefused("；".join(errors.values()))
    before = _snapshot(institution)
    institution.introduction = given.introduction.strip()
    institution.address = given.address.strip()
    institution.phone = given.phone.strip()
    institution.services = [
        ServiceItem(
            category=row["category"],
            title=row["title"],
            content=row["content"],
            featured=bool(row["featured"]),
            position=i,
        )
        for i, row in enumerate(r for r in given.services if r["title"])
    ]
    audit.record(by, EDIT, institution, before=before, after=_snapshot(institution), ip=ip)


def propose_name(institution: Institution, by: User, name: str, ip: str = "") -> HomepageChange:
    name = name.strip()
    if not name or len(name) > 200:
        raise ConsultRefused("请填写新的机构名称（不超过200字），与营业执照一致")
    return _propose(institution, by, "name", {"name": name}, ip)


def propose_qualification(
    institution: Institution,
    by: User,
    *,
    name: str,
    number: str,
    issuer: str,
    valid_until: date | None,
    upload: FileStorage | None,
    today: date,
    ip: str = "",
) -> HomepageChange:
    """A new qualification certificate (Art. 5): in force, with its file; live once the operator accepts."""
    missing = [label for value, label in ((name, "证书名称"), (issuer, "发证机构")) if not value.strip()]
    if missing:
        raise ConsultRefused("请填写" + "、".join(missing))
    if problem := eligibility.certificate_problem(valid_until, today):
        raise ConsultRefused(problem)
    stored = files.accept(by, "qualification", upload)
    if stored is None:
        raise ConsultRefused("请上传证书文件（PDF、JPG或PNG）")
    payload = {
        "name": name.strip(),
        "number": number.strip(),
        "issuer": issuer.strip(),
        "valid_until": valid_until.isoformat(),
        "file_id": stored.id,
    }
    return _propose(institution, by, "qualification", payload, ip)


def _propose(institution, by, kind, payload, ip) -> HomepageChange:
    change = HomepageChange(institution_id=institution.id, kind=kind, payload=payload, submitted_by_id=by.id)
    db.session.add(change)
    db.session.flush()
    audit.record(by, "propose_change", change, after={"kind": kind, **payload}, ip=ip)
    return change


def decide(
    change: HomepageChange, by: User, accept: bool, reason: str, version: int | None, ip: str = ""
) -> None:
    """[通过变更] applies the change; [退回变更] needs a reason. The institution is told either way."""
    check_version(change, version)
    if change.state != ChangeState.PENDING:
        raise ConsultRefused("该变更已处理")
    if not accept and not reason.strip():
        raise ConsultRefused("请填写退回理由")
    institution = change.institution
    if accept and change.kind == "name":
        institution.name = change.payload["name"]
    elif accept:
        data = change.payload
        institution.qualifications.append(
            Qualification(
                name=data["name"],
                number=data["number"] or None,
                issuer=data["issuer"],
                valid_until=date.fromisoformat(data["valid_until"]),
            )
        )
    change.state = ChangeState.ACCEPTED if accept else ChangeState.RETURNED
    change.reason, change.decided_by_id, change.decided_at = reason.strip(), by.id, clock.now()
    audit.record(by, "decide_change", change, after={"state": change.state.value}, note=reason.strip(), ip=ip)
    owner = db.session.get(User, institution.owner_id) if institution.owner_id else None
    if owner is not None:
        verdict = "已通过，已在机构主页公示" if accept else f"被退回：{reason.strip()}"
        notifications.notify(
            owner,
            "change_decided",
            "机构主页变更审核结果",
            f"您提交的{change.kind_label}变更{verdict}",
            sms_params={"kind": change.kind_label},
        )


def pending() -> list[HomepageChange]:
    stmt = (
        sa.select(HomepageChange)
        .where(HomepageChange.state == ChangeState.PENDING)
        .order_by(HomepageChange.id)
    )
    return list(db.session.scalars(stmt))


def changes_of(institution: Institution) -> list[HomepageChange]:
    stmt = sa.select(HomepageChange).where(HomepageChange.institution_id == institution.id)
    return list(db.session.scalars(stmt.order_by(HomepageChange.id.desc()).limit(20)))


def recent_edits(limit: int = 50) -> list[tuple[AuditRecord, Institution]]:
    """The operator's feed of live homepage edits, newest first."""
    stmt = (
        sa.select(AuditRecord, Institution)
        .join(Institution, Institution.id == AuditRecord.object_id)
        .where(AuditRecord.action == EDIT, AuditRecord.object_type == Institution.__tablename__)
        .order_by(AuditRecord.id.desc())
        .limit(limit)
    )
    return [tuple(row) for row in db.session.execute(stmt)]


RECENT_DAYS = 90  # Art. 13 looks at the first working days after admission; older listings are past it


def _recent_listed(today: date) -> list[Institution]:
    stmt = sa.select(Institution).where(
        Institution.listing_state == ListingState.LISTED,
        Institution.opened_on >= today - timedelta(days=RECENT_DAYS),
    )
    parts = (Institution.services, Institution.agents, Institution.qualifications)  # upkeep_status reads them
    stmt = stmt.options(*(selectinload(part) for part in parts))
    return list(db.session.scalars(stmt.order_by(Institution.opened_on)))


def remind_upkeep(today: date) -> int:
    """`qzt tick`: on the 3rd working day after admission, remind an institution whose homepage is not
    complete yet (once); returns how many notices were queued."""
    calendar = work_calendar()
    queued = 0
    for institution in _recent_listed(today):
        if upkeep.reminder_day(institution.opened_on, calendar) > today or not institution.owner_id:
            continue
        status = upkeep_status(institution, today)
        if not status.problems or status.overdue:
            continue
        queued += notifications.notify_once(
            [db.session.get(User, institution.owner_id)],
            "upkeep_due",
            "请完善机构主页",
            f"请于{status.deadline:%Y年%m月%d日}前完善机构主页（《管理办法》第十三条），尚需：{'；'.join(status.problems)}。",
            sms_params={"deadline": status.deadline.isoformat()},
            key=f"upkeep-due:{institution.id}:{institution.opened_on.isoformat()}",
        )
    return queued


def overdue_upkeep(today: date) -> list[tuple[Institution, Upkeep]]:
    """Institutions past their Art. 13 deadline with an incomplete homepage, for the staff."""
    rows = [(institution, upkeep_status(institution, today)) for institution in _recent_listed(today)]
    return [(institution, status) for institution, status in rows if status.overdue]
