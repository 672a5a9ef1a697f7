"""Staff pages under /staff: the queue, the review of one application, decisions (Art. 10–12)."""

from datetime import date
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from qzt import audit, files, notifications
from qzt.auth.services import AccountError, create_user
from qzt.calendar_service import add_correction, work_calendar
from qzt.extensions import db
from qzt.models import (
    Application,
    CalendarCorrection,
    DeliveryState,
    Notification,
    Role,
    User,
    WithdrawalRequest,
)
from qzt.models.application import STATE_LABELS
from qzt.models.base import MAX_ID
from qzt.onboarding import signing
from qzt.onboarding.draft import parse_date
from qzt.onboarding.services import file_names
from qzt.review import exits, queue, services
from qzt.rules import admission
from qzt.web import is_fragment

bp = Blueprint("review", __name__, url_prefix="/staff")


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None


def get_application_or_404(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or application.state.value == "draft":
        abort(404)
    return application


@bp.get("/")
@staff_required
def index():
    return redirect(url_for("review.applications"))


@bp.get("/applications")
@staff_required
def applications():
    """The queue: counts per state, filters, oldest waiting first, waiting time in working days."""
    filters = queue.QueueFilters.from_args(request.args)
    today, calendar = date.today(), work_calendar()
    rows = [
        (
            a,
            calendar.working_days_between(a.submitted_at.date(), today) if a.submitted_at else 0,
            services.overdue(a, today),
        )
        for a in queue.applications(filters, current_user)
    ]
    template = "review/_queue_rows.html" if is_fragment() else "review/queue.html"
    return render_template(
        template,
        filters=filters,
        rows=rows,
        counts=queue.counts(filters, current_user),
        states=queue.QUEUE_STATES,
    )


@bp.get(f"/applications/<int(max={MAX_ID}):application_id>")
@staff_required
def application(application_id: int):
    """Everything submitted, the checklist, the pledge, the actions this user may take, the audit log."""
    application = get_application_or_404(application_id)
    return _render_application(application)


# The audit log in words: actions recorded on an application, by their button text.
AUDIT_ACTIONS = {"claim": "领取", **{t.action: t.label for t in admission.TRANSITIONS}}


def _render_application(application: Application, status: int = 200, error: str | None = None):
    today = date.today()
    return render_template(
        "review/application.html",
        application=application,
        data=application.data,
        error=error,
        actions=admission.available(application.state.value, current_user.role.value),
        signature=signing.latest(application),
        changes=services.revision_changes(application),
        overdue=services.overdue(application, today),
        **_history(application),
        file_names=file_names(application.data),
        today=today,
        action_labels=AUDIT_ACTIONS,
        state_labels=STATE_LABELS,
    ), status


def _history(application: Application) -> dict:
    """The audit log of the application, filtered by ?log=<action> and ?log_by=<staff id>."""
    history = audit.history(application)
    action, by = request.args.get("log", ""), request.args.get("log_by", "")
    shown = [r for r in history if (not action or r.action == action) and (not by or str(r.actor_id) == by)]
    actors = {r.actor_id: r.actor.name for r in history if r.actor is not None}
    return {
        "history": shown,
        "log_actions": sorted({r.action for r in history}),
        "log_actors": actors,
        "log_filter": {"log": action, "log_by": by},
    }


@bp.post(f"/applications/<int(max={MAX_ID}):application_id>/claim")
@staff_required
def claim(application_id: int):
    """[领取]."""
    application = get_application_or_404(application_id)
    try:
        services.claim(application, current_user, _version(), ip=request.remote_addr or "")
        services.commit_or_conflict()
    except services.Conflict:
        return _conflict(application)
    flash("已领取该申请", "success")
    return redirect(url_for("review.application", application_id=application_id))


def _conflict(application: Application):
    db.session.rollback()
    db.session.refresh(application)
    message = "该申请刚刚已被其他工作人员处理或领取，页面已刷新为最新状态，请核对后再操作。"
    if request.form.get("message", "").strip():
        message += "您填写的内容仍保留在下方表单中。"
    return _render_application(application, 409, message)


@bp.post(f"/applications/<int(max={MAX_ID}):application_id>/actions/<action>")
@staff_required
def act(application_id: int, action: str):
    """The review buttons: [要求补充材料] [安排实地调查] [建议通过] [建议不予通过] [批准入驻] [不予通过]."""
    application = get_application_or_404(application_id)
    days = request.form.get("deadline_days", "")
    given = services.ActionInput(
        message=request.form.get("message", "")[:5000],
        deadline_days=int(days) if days.isdigit() else None,
        visit_on=parse_date(request.form.get("visit_on", "")),
    )
    try:
        services.act(
            application, action, current_user, _version(), given, date.today(), ip=request.remote_addr or ""
        )
        services.commit_or_conflict()
    except services.Conflict:
        return _conflict(application)
    except (admission.TransitionRefused, services.ActionRefused) as refused:
        db.session.rollback()
        return _render_application(application, 422, str(refused))
    flash(f"已{admission.BY_ACTION[action].label}", "success")
    return redirect(url_for("review.application", application_id=application_id))


@bp.get(f"/files/<int(max={MAX_ID}):file_id>")
@staff_required
def file(file_id: int):
    """A submitted file, for staff."""
    return files.send(files.get_file_or_404(file_id, current_user))


# --- withdrawals (Art. 12) ---


@bp.get("/withdrawals")
@staff_required
def withdrawals():
    """Written withdrawal requests of listed institutions and where each stands."""
    rows = db.session.scalars(db.select(WithdrawalRequest).order_by(WithdrawalRequest.id.desc())).all()
    return render_template("review/withdrawals.html", rows=rows)


@bp.post(f"/withdrawals/<int(max={MAX_ID}):request_id>/<step>")
@staff_required
def withdrawal_step(request_id: int, step: str):
    """[遗留问题已处理] by the operator, then [完成退出] by the authority."""
    withdrawal = db.session.get(WithdrawalRequest, request_id) or abort(404)
    try:
        exits.advance(
            withdrawal,
            step,
            current_user,
            request.form.get("note", "")[:2000],
            _version(),
            ip=request.remote_addr or "",
        )
        services.commit_or_conflict()
    except services.Conflict:
        db.session.rollback()
        flash("该退出申请刚刚已被其他工作人员处理，请核对后再操作。", "error")
    except exits.ExitRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
    return redirect(url_for("review.withdrawals"))


# --- the working-day calendar ---


@bp.route("/calendar", methods=["GET", "POST"])
@staff_required
def calendar():
    """Corrections for days the holidays package gets wrong or does not know yet."""
    error = None
    if request.method == "POST":
        day = parse_date(request.form.get("day", ""))
        working = request.form.get("working")
        if day is None or working not in ("1", "0"):
            error = "请填写日期并选择该日为工作日还是休息日"
        else:
            add_correction(
                day,
                working == "1",
                request.form.get("note", "")[:200],
                current_user,
                ip=request.remote_addr or "",
            )
            db.session.commit()
            flash("已保存日历修正", "success")
            return redirect(url_for("review.calendar"))
    corrections = db.session.scalars(
        db.select(CalendarCorrection).order_by(CalendarCorrection.day.desc())
    ).all()
    year = date.today().year
    return render_template(
        "review/calendar.html",
        corrections=corrections,
        error=error,
        known={y: work_calendar().knows_year(y) for y in (year, year + 1)},
    ), 422 if error else 200


# --- staff accounts (admin) ---


@bp.route("/users", methods=["GET", "POST"])
@staff_required
def users():
    """Admin: create staff accounts (operator, authority, admin) and switch them off."""
    if current_user.role != Role.ADMIN:
        abort(403)
    error = None
    if request.method == "POST":
        role = request.form.get("role", "")
        try:
            if role not in ("operator", "authority", "admin"):
                raise AccountError("请选择角色")
            user = create_user(
                Role(role),
                request.form.get("phone", ""),
                request.form.get("name", ""),
                request.form.get("password", ""),
            )
            audit.record(
                current_user,
                "create_staff",
                user,
                after={"role": role, "phone": user.phone},
                ip=request.remote_addr or "",
            )
            db.session.commit()
            flash(f"已创建账号 {user.phone}", "success")
            return redirect(url_for("review.users"))
        except AccountError as refused:
            db.session.rollback()
            error = str(refused)
    staff = db.session.scalars(
        db.select(User).where(User.role.in_([Role.ADMIN, Role.AUTHORITY, Role.OPERATOR])).order_by(User.id)
    ).all()
    return render_template("review/users.html", staff=staff, error=error), 422 if error else 200


@bp.post(f"/users/<int(max={MAX_ID}):user_id>/active")
@staff_required
def toggle_user(user_id: int):
    """Admin: deactivate or reactivate a staff account."""
    if current_user.role != Role.ADMIN:
        abort(403)
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff or user.id == current_user.id:
        abort(404)
    before = {"active": user.active}
    user.active = not user.active
    audit.record(
        current_user,
        "toggle_staff",
        user,
        before=before,
        after={"active": user.active},
        ip=request.remote_addr or "",
    )
    db.session.commit()
    return redirect(url_for("review.users"))


# --- notices that need a person ---


@bp.get("/notifications")
@staff_required
def notification_problems():
    """SMS notices stuck mid-send (never resent automatically) and those given up after retries."""
    failed = db.session.scalars(
        db.select(Notification)
        .where(Notification.state == DeliveryState.FAILED)
        .order_by(Notification.id.desc())
        .limit(100)
    ).all()
    return render_template("review/notifications.html", stuck=notifications.stuck(), failed=failed)


@bp.post(f"/notifications/<int(max={MAX_ID}):notification_id>/resolve")
@staff_required
def resolve_notification(notification_id: int):
    """[已确认送达] or [重新发送] after checking the SMS provider's records."""
    notice = db.session.get(Notification, notification_id) or abort(404)
    resend = request.form.get("resend") == "1"
    try:
        notifications.resolve_stuck(notice, resend=resend)
    except ValueError:
        flash("该通知已不在发送中断状态，无需处理", "error")
        return redirect(url_for("review.notification_problems"))
    audit.record(
        current_user, "resend_notice" if resend else "confirm_notice", notice, ip=request.remote_addr or ""
    )
    db.session.commit()
    flash("已重新排队发送" if resend else "已标记为已送达", "success")
    return redirect(url_for("review.notification_problems"))
