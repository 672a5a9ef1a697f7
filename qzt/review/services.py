"""Admission decisions: every transition goes through `act`, which checks the state machine,
guards against concurrent edits, writes the audit record and queues the applicant's notice."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from qzt.core import audit, clock, notifications
from qzt.core.calendar import work_calendar
from qzt.core.database import Conflict, check_version
from qzt.data.catalog import CATEGORY_NAMES
from qzt.extensions import db
from qzt.models import Application, ApplicationState, AuditRecord, Institution, ListingState, User
from qzt.models.institution import AgentRecord, InstitutionRecord, QualificationRecord, ServiceRecord
from qzt.review.diff import changes
from qzt.rules import admission
from qzt.rules import phone as phones
from qzt.rules import uscc as uscc_rules
from qzt.rules.values import parse_date

MAX_INFO_DAYS = 30


class ActionRefused(ValueError):
    """A Chinese message saying what to fix; `field` names the form field it is about, if one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class ActionInput:
    message: str = ""
    deadline_days: int | None = None
    visit_on: date | None = None


def _snapshot(application: Application) -> dict:
    return {
        "state": application.state.value,
        "assignee_id": application.assignee_id,
        "info_deadline": application.info_deadline.isoformat() if application.info_deadline else None,
        "recommendation": application.recommendation,
    }


def claim(application: Application, user: User, version: int | None, ip: str = "") -> None:
    """[领取]: the reviewer takes the application; a second reviewer gets a conflict."""
    check_version(application, version)
    if application.assignee_id not in (None, user.id):
        raise Conflict()
    before = _snapshot(application)
    application.assignee_id = user.id
    audit.record(user, "claim", application, before=before, after=_snapshot(application), ip=ip)


def transfer(application: Application, user: User, version: int | None, reason: str, ip: str = "") -> None:
    """[转交]: take over an application another reviewer has claimed, saying why. The version the page
    showed must be given and still current, so of two people transferring at once only the first wins."""
    if version is None:
        raise Conflict()
    check_version(application, version)
    refusal = admission.transfer_refusal(
        user.id, user.role.value, application.state.value, application.assignee_id
    )
    if refusal:
        raise admission.TransitionRefused(refusal)
    reason = _require(reason, "转交原因", "reason")
    if len(reason) > admission.MAX_TRANSFER_REASON:
        raise ActionRefused(f"转交原因请不超过{admission.MAX_TRANSFER_REASON}字", "reason")
    before = {**_snapshot(application), "assignee": application.assignee.name}
    application.assignee_id = user.id
    after = {**_snapshot(application), "assignee": user.name}
    audit.record(user, "transfer", application, before=before, after=after, note=reason, ip=ip)


def _check_handler(application: Application, user: User) -> None:
    claimant = application.assignee
    admission.check_handler(
        user.id, user.role.value, application.assignee_id, claimant.name if claimant else ""
    )


def claimed_since(application: Application) -> datetime | None:
    """When the present claimant took the application ([领取] or [转交]), from the audit log."""
    if application.assignee_id is None:
        return None
    records = (
        sa.select(AuditRecord.at, AuditRecord.after)
        .where(
            AuditRecord.object_type == Application.__tablename__,
            AuditRecord.object_id == application.id,
            AuditRecord.action.in_(("claim", "transfer")),
        )
        .order_by(AuditRecord.id.desc())
    )
    for at, after in db.session.execute(records):
        if (after or {}).get("assignee_id") == application.assignee_id:
            return at
    return None


def act(
    application: Application,
    action: str,
    user: User,
    version: int | None,
    given: ActionInput,
    today: date,
    ip: str = "",
) -> None:
    """Move the application by `action` (qzt.rules.admission) with what the form gave. A claimed
    application moves only for its claimant or 质量发展科 (admission.check_handler)."""
    check_version(application, version)
    _check_handler(application, user)
    new_state = admission.target(application.state.value, action, user.role.value)
    before = _snapshot(application)
    _APPLY[action](application, user, given, today)
    application.state = ApplicationState(new_state)
    audit.record(
        user, action, application, before=before, after=_snapshot(application), note=given.message, ip=ip
    )


def _require(message: str, what: str, field: str = "message") -> str:
    if not message.strip():
        raise ActionRefused(f"请填写{what}", field)
    return message.strip()


def _request_info(application, user, given, today):
    message = _require(given.message, "需要补充的材料")
    days = given.deadline_days
    if days is None or not 1 <= days <= MAX_INFO_DAYS:
        raise ActionRefused(f"补充期限应为1至{MAX_INFO_DAYS}个工作日", "deadline_days")
    deadline = work_calendar().add_working_days(today, days)
    application.info_request, application.info_deadline = message, deadline
    _notify(
        application,
        "info_requested",
        "入驻申请需补充材料",
        f"您的入驻申请需补充材料：{message}。请于{deadline:%Y年%m月%d日}前登录佛山企质通补充后重新提交，"
        "逾期未补充的可不予通过（《管理办法》第十一条）。",
        {"deadline": deadline.isoformat()},
    )


def _schedule_visit(application, user, given, today):
    if given.visit_on is None or given.visit_on < today:
        raise ActionRefused("请填写今天或以后的实地调查日期", "visit_on")
    application.site_visit_on, application.site_visit_note = given.visit_on, given.message.strip()
    _notify(
        application,
        "site_visit",
        "实地调查安排",
        f"平台将于{given.visit_on:%Y年%m月%d日}对贵机构开展实地调查，请积极配合。{given.message.strip()}",
        {"date": given.visit_on.isoformat()},
    )


def _record_visit(application, user, given, today):
    application.site_visit_result = _require(given.message, "实地调查结果")


def _recommend(verdict: str):
    def apply(application, user, given, today):
        application.recommendation = verdict
        application.recommendation_reason = _require(given.message, "建议理由")

    return apply


def _approve(application, user, given, today):
    application.decision_reason, application.decided_at = given.message.strip(), clock.now()
    institution = list_institution(application, today)
    _notify(
        application,
        "approved",
        "入驻申请已通过",
        f"“{institution.name}”已批准入驻佛山企质通，机构主页已公开。请于5个工作日内完善机构信息、"
        "服务项目（《管理办法》第十三条）。",
        {"name": institution.name},
    )


def _reject(application, user, given, today):
    reason = _require(given.message, "不予通过的理由")
    application.decision_reason, application.decided_at = reason, clock.now()
    _notify(
        application,
        "rejected",
        "入驻申请未通过",
        f"您的入驻申请未通过审核，理由：{reason}",
        {"reason": reason},
    )


_APPLY = {
    "request_info": _request_info,
    "schedule_visit": _schedule_visit,
    "record_visit": _record_visit,
    "recommend_approval": _recommend("approve"),
    "recommend_rejection": _recommend("reject"),
    "approve": _approve,
    "reject": _reject,
}


def _notify(application: Application, kind: str, title: str, body: str, params: dict) -> None:
    notifications.notify(application.applicant, kind, title, body, sms_params=params)


def list_institution(application: Application, today: date) -> Institution:
    """[批准入驻]: the institution appears in the directory at once; its service-opening date is today."""
    institution = db.session.scalar(sa.select(Institution).where(Institution.uscc == application.uscc))
    if institution is None:
        institution = Institution()
        db.session.add(institution)
    institution.apply(institution_record(application.data, today))
    institution.owner_id, institution.listing_state = application.applicant_id, ListingState.LISTED
    db.session.flush()
    application.institution_id = institution.id
    return institution


def institution_record(data: dict, opened_on: date) -> InstitutionRecord:
    """The institution an application describes, as the record every writer of institutions takes."""
    basic = data["basic"]
    services = [s for s in data.get("services", []) if s.get("category") in CATEGORY_NAMES]
    return InstitutionRecord(
        name=basic["name"],
        uscc=uscc_rules.normalize(basic["uscc"]),
        district=basic["district"],
        introduction=basic["introduction"],
        phone=basic["phone"],
        opened_on=opened_on,
        address=basic["address"],
        legal_representative=basic["legal_representative"],
        org_type=basic["org_type"],
        services=[
            ServiceRecord(
                category=s["category"],
                title=s["title"],
                content=s.get("content", ""),
                featured=bool(s.get("featured")),
                position=i,
            )
            for i, s in enumerate(services)
        ],
        qualifications=[
            QualificationRecord(
                name=q["name"],
                number=q.get("number"),
                issuer=q.get("issuer"),
                valid_until=parse_date(q.get("valid_until", "")),
            )
            for q in data.get("qualifications", [])
        ],
        agents=[
            AgentRecord(name=a["name"], phone=phones.normalize(a["phone"]), hours=a.get("hours"))
            for a in data.get("agents", [])
        ],
    )


def revision_changes(application: Application) -> list[tuple[str, object, object]]:
    """What changed between the last two submissions (empty for the first)."""
    if len(application.revisions) < 2:
        return []
    old, new = application.revisions[-2].data, application.revisions[-1].data
    return changes(old, new)


def remind_deadlines(today: date) -> int:
    """Queue a "deadline near" notice once per deadline, one working day before it; returns how many."""
    calendar = work_calendar()
    stmt = sa.select(Application).where(
        Application.state == ApplicationState.INFO_REQUESTED, Application.info_deadline >= today
    )
    queued = 0
    for application in db.session.scalars(stmt):
        if calendar.working_days_between(today, application.info_deadline) > 1:
            continue
        notice = notifications.notify(
            application.applicant,
            "deadline_near",
            "补充材料即将截止",
            f"您的入驻申请补充材料将于{application.info_deadline:%Y年%m月%d日}截止，请尽快登录佛山企质通提交。",
            sms_params={"deadline": application.info_deadline.isoformat()},
            dedupe_key=f"deadline-near:{application.id}:{application.info_deadline.isoformat()}",
        )
        queued += notice is not None
    return queued
