"""Leaving the platform (Art. 12): an applicant withdraws its application; a listed institution files
a written request, the operator records that leftover matters are settled, the authority completes it."""

from datetime import date

from werkzeug.datastructures import FileStorage

from qzt.core import audit, files, notifications
from qzt.core.database import check_version
from qzt.extensions import db
from qzt.models import (
    Application,
    ApplicationState,
    Institution,
    ListingState,
    Role,
    User,
    WithdrawalRequest,
    WithdrawalState,
)
from qzt.rules import admission


class ExitRefused(ValueError):
    """A Chinese message saying why."""


def withdraw_application(application: Application, user: User, today: date, ip: str = "") -> None:
    """The applicant takes its application back before a decision."""
    before = {"state": application.state.value}
    application.state = ApplicationState(
        admission.target(application.state.value, "withdraw", user.role.value)
    )
    audit.record(
        user, "withdraw", application, before=before, after={"state": application.state.value}, ip=ip
    )


def request_withdrawal(
    institution: Institution, user: User, letter: FileStorage | None, reason: str, ip: str = ""
) -> WithdrawalRequest:
    """The listed institution files its written request (an uploaded letter, checked like any upload)."""
    if institution.listing_state not in (ListingState.LISTED, ListingState.HIDDEN):
        raise ExitRefused("机构当前不在平台名录中，无需申请退出")
    if WithdrawalRequest.open_for(institution):
        raise ExitRefused("已提交退出申请，正在办理中")
    stored = files.accept(user, "withdrawal_letter", letter)
    if stored is None:
        raise ExitRefused("请上传加盖公章的书面退出申请（PDF、JPG或PNG）")
    withdrawal = WithdrawalRequest(
        institution_id=institution.id, letter_file_id=stored.id, reason=reason.strip()
    )
    db.session.add(withdrawal)
    db.session.flush()
    audit.record(user, "request_withdrawal", withdrawal, after={"state": withdrawal.state.value}, ip=ip)
    return withdrawal


_STEPS = {  # step -> (role allowed, from state, to state, label)
    "settle": (Role.OPERATOR, WithdrawalState.REQUESTED, WithdrawalState.SETTLED, "遗留问题已处理"),
    "complete": (Role.AUTHORITY, WithdrawalState.SETTLED, WithdrawalState.COMPLETED, "完成退出"),
}


def advance(
    withdrawal: WithdrawalRequest, step: str, user: User, note: str, version: int | None, ip: str = ""
) -> None:
    check_version(withdrawal, version)
    if step not in _STEPS:
        raise ExitRefused("未知的操作")
    role, source, target, label = _STEPS[step]
    if user.role != role:
        raise ExitRefused(f"您的角色不能执行“{label}”")
    if withdrawal.state != source:
        raise ExitRefused(f"退出申请当前状态下不能执行“{label}”")
    if step == "settle" and not note.strip():
        raise ExitRefused("请填写遗留问题的处理情况")
    before = {"state": withdrawal.state.value}
    withdrawal.state = target
    if step == "settle":
        withdrawal.settled_note, withdrawal.settled_by_id = note.strip(), user.id
    else:
        withdrawal.completed_by_id = user.id
        institution = withdrawal.institution
        institution.listing_state = ListingState.WITHDRAWN  # leaves the directory; its records stay
        if institution.owner_id:
            owner = db.session.get(User, institution.owner_id)
            notifications.notify(
                owner,
                "withdrawn",
                "退出手续已办结",
                f"“{institution.name}”已退出佛山企质通，感谢您的参与。",
                sms_params={},
            )
    audit.record(
        user,
        f"withdrawal_{step}",
        withdrawal,
        before=before,
        after={"state": target.value},
        note=note.strip(),
        ip=ip,
    )
