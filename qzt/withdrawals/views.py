"""Withdrawal pages: the applicant's buttons on /onboarding, the staff list under /staff (Art. 12)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from qzt.auth.permissions import applicant_required, staff_required
from qzt.core import clock
from qzt.core.database import Conflict, commit_or_conflict
from qzt.core.forms import EmptyForm
from qzt.core.http import client_ip
from qzt.extensions import db
from qzt.models import Application, WithdrawalRequest
from qzt.rules.admission import TransitionRefused
from qzt.rules.uploads import UploadRejected
from qzt.withdrawals import bp, services
from qzt.withdrawals.forms import WithdrawalRequestForm, WithdrawalStepForm


@bp.post("/onboarding/withdraw")
@applicant_required
def withdraw_application():
    """[撤回申请] before a decision (Art. 12)."""
    application = Application.of(current_user) or abort(404)
    if EmptyForm().validate_on_submit():
        _carry_out(
            lambda: services.withdraw_application(application, current_user, clock.today(), ip=client_ip()),
            "申请已撤回",
        )
    return redirect(url_for("onboarding.start"))


@bp.post("/onboarding/withdrawal")
@applicant_required
def request_withdrawal():
    """[提交退出申请]: a listed institution files its written request with a letter (Art. 12)."""
    application = Application.of(current_user)
    institution = (application and application.institution) or abort(404)
    form = WithdrawalRequestForm()
    if form.validate_on_submit():
        _carry_out(
            lambda: services.request_withdrawal(
                institution, current_user, form.letter.data, form.reason.data, client_ip()
            ),
            "退出申请已提交，平台运维机构将协助处理遗留问题",
        )
    return redirect(url_for("onboarding.start"))


def _carry_out(change, done: str) -> None:
    """The applicant's change: committed with `done` said, or rolled back with the reason said."""
    try:
        change()
    except (TransitionRefused, UploadRejected, services.ExitRefused) as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(done, "success")


@bp.get("/staff/withdrawals")
@staff_required
def queue():
    """Written withdrawal requests of listed institutions and where each stands."""
    rows = db.session.scalars(db.select(WithdrawalRequest).order_by(WithdrawalRequest.id.desc())).all()
    return render_template("withdrawals/queue.html", rows=rows)


@bp.post("/staff/withdrawals/<id:request_id>/<step>")
@staff_required
def step(request_id: int, step: str):
    """[遗留问题已处理] by the operator, then [完成退出] by the authority."""
    withdrawal = db.session.get(WithdrawalRequest, request_id) or abort(404)
    form = WithdrawalStepForm()
    if form.validate_on_submit():
        try:
            services.advance(
                withdrawal, step, current_user, form.note.data, form.seen_version, ip=client_ip()
            )
            commit_or_conflict()
        except Conflict:
            db.session.rollback()
            flash("该退出申请刚刚已被其他工作人员处理，请核对后再操作。", "error")
        except services.ExitRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
    return redirect(url_for("withdrawals.queue"))
