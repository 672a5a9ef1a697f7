"""Staff pages under /staff: the queue, the review of one application, decisions (Art. 10–11)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from qzt.auth.permissions import roles_required, staff_required
from qzt.core import audit, calendar, clock, files
from qzt.core.database import Conflict, commit_or_conflict
from qzt.core.http import client_ip, is_fragment
from qzt.extensions import db
from qzt.models import Application, ApplicationState, Role
from qzt.models.application import STATE_LABELS
from qzt.pledges import signing
from qzt.review import bp, queue, services
from qzt.review.forms import ActionForm, ClaimForm, TransferForm
from qzt.rules import admission

# The audit log in words: actions recorded on an application, by their button text.
AUDIT_ACTIONS = {"claim": "领取", "transfer": "转交", **{t.action: t.label for t in admission.TRANSITIONS}}


def get_application_or_404(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or application.state == ApplicationState.DRAFT:
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
    rows = queue.rows(filters, current_user, clock.today(), calendar.work_calendar())
    template = "review/_queue_rows.html" if is_fragment() else "review/queue.html"
    return render_template(
        template,
        filters=filters,
        rows=rows,
        counts=queue.counts(filters, current_user),
        states=queue.QUEUE_STATES,
    )


@bp.get("/applications/<id:application_id>")
@staff_required
def application(application_id: int):
    """Everything submitted, the checklist, the pledge, the actions this user may take, the audit log."""
    return _render_application(get_application_or_404(application_id))


def _render_application(
    application: Application, status: int = 200, error: str | None = None, form=None, field: str | None = None
):
    """The page; after a refused action, `error` beside `field` of the form that was sent (and at the top)."""
    today = clock.today()
    user, role, claimant = current_user, current_user.role.value, application.assignee_id
    may_handle = admission.may_handle(user.id, role, claimant)
    return render_template(
        "review/application.html",
        application=application,
        data=application.data,
        error=error,
        error_field=field,
        form=form,
        # A claimed application's buttons are its claimant's (and 质量发展科's); others see [转交].
        actions=admission.available(application.state.value, role) if may_handle else [],
        may_handle=may_handle,
        claimed_since=services.claimed_since(application),
        may_transfer=admission.transfer_refusal(user.id, role, application.state.value, claimant) is None,
        max_transfer_reason=admission.MAX_TRANSFER_REASON,
        signature=signing.latest(application),
        changes=services.revision_changes(application),
        overdue=application.is_overdue(today),
        **_history(application),
        file_names=files.file_names(application.data),
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


@bp.post("/applications/<id:application_id>/claim")
@staff_required
def claim(application_id: int):
    """[领取]."""
    application = get_application_or_404(application_id)
    form = ClaimForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.claim(application, current_user, form.seen_version, ip=client_ip())
        commit_or_conflict()
    except Conflict:
        return _conflict(application, form)
    flash("已领取该申请", "success")
    return redirect(url_for("review.application", application_id=application_id))


def _conflict(application: Application, form):
    db.session.rollback()
    db.session.refresh(application)
    message = "该申请刚刚已被其他工作人员处理或领取，页面已刷新为最新状态，请核对后再操作。"
    typed = [getattr(form, name, None) for name in ("message", "reason")]
    if any(field is not None and field.data for field in typed):
        message += "您填写的内容仍保留在下方表单中。"
    return _render_application(application, 409, message, form)


@bp.post("/applications/<id:application_id>/transfer")
@roles_required(Role.OPERATOR, Role.AUTHORITY)
def transfer(application_id: int):
    """[转交]: take over an application another reviewer has claimed, with a reason for the audit log."""
    application = get_application_or_404(application_id)
    form = TransferForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.transfer(application, current_user, form.seen_version, form.reason.data, ip=client_ip())
        commit_or_conflict()
    except Conflict:
        return _conflict(application, form)
    except (admission.TransitionRefused, services.ActionRefused) as refused:
        db.session.rollback()
        return _render_application(application, 422, str(refused), form, getattr(refused, "field", None))
    flash("已转交，该申请现由您处理", "success")
    return redirect(url_for("review.application", application_id=application_id))


@bp.post("/applications/<id:application_id>/actions/<action>")
@staff_required
def act(application_id: int, action: str):
    """The review buttons: [要求补充材料] [安排实地调查] [建议通过] [建议不予通过] [批准入驻] [不予通过]."""
    application = get_application_or_404(application_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    given = services.ActionInput(
        message=form.message.data, deadline_days=form.deadline_days.data, visit_on=form.visit_on.data
    )
    try:
        services.act(
            application, action, current_user, form.seen_version, given, clock.today(), ip=client_ip()
        )
        commit_or_conflict()
    except Conflict:
        return _conflict(application, form)
    except (admission.TransitionRefused, services.ActionRefused) as refused:
        db.session.rollback()
        return _render_application(application, 422, str(refused), form, getattr(refused, "field", None))
    flash(f"已{admission.BY_ACTION[action].label}", "success")
    return redirect(url_for("review.application", application_id=application_id))


@bp.get("/files/<id:file_id>")
@staff_required
def file(file_id: int):
    """A submitted file, for staff."""
    return files.send(files.get_file_or_404(file_id, current_user))


@bp.get("/files/<id:file_id>/view")
@staff_required
def view_file(file_id: int):
    """[查看]: a submitted PDF or image shown in the browser; anything else as a download."""
    return files.send_inline(files.get_file_or_404(file_id, current_user))
