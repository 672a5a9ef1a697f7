"""The operator's tools under /staff: working-day calendar corrections, SMS notices that need a person."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from qzt.auth.permissions import staff_required
from qzt.core import calendar, clock, notifications
from qzt.core.http import client_ip
from qzt.extensions import db
from qzt.models import Notification
from qzt.operations import bp
from qzt.operations.forms import CalendarCorrectionForm, ResolveNoticeForm


@bp.route("/calendar", methods=["GET", "POST"])
@staff_required
def calendar_page():
    """Corrections for days the holidays package gets wrong or does not know yet."""
    form = CalendarCorrectionForm()
    if form.validate_on_submit():
        calendar.add_correction(
            form.day.data, form.working.data == "1", form.note.data, current_user, ip=client_ip()
        )
        db.session.commit()
        flash("已保存日历修正", "success")
        return redirect(url_for("operations.calendar_page"))
    year = clock.today().year
    return render_template(
        "operations/calendar.html",
        form=form,
        corrections=calendar.corrections(),
        known={y: calendar.work_calendar().knows_year(y) for y in (year, year + 1)},
    ), 422 if form.errors or form.form_errors else 200


@bp.get("/notifications")
@staff_required
def notification_problems():
    """SMS notices stuck mid-send (never resent automatically) and those given up after retries."""
    return render_template(
        "operations/notifications.html", stuck=notifications.stuck(), failed=notifications.given_up()
    )


@bp.post("/notifications/<id:notification_id>/resolve")
@staff_required
def resolve_notification(notification_id: int):
    """[已确认送达] or [重新发送] after checking the SMS provider's records."""
    notice = db.session.get(Notification, notification_id) or abort(404)
    form = ResolveNoticeForm()
    if form.validate_on_submit():
        resend = form.resend.data == "1"
        try:
            notifications.resolve_stuck(notice, resend=resend, by=current_user, ip=client_ip())
        except ValueError:
            flash("该通知已不在发送中断状态，无需处理", "error")
            return redirect(url_for("operations.notification_problems"))
        db.session.commit()
        flash("已重新排队发送" if resend else "已标记为已送达", "success")
    return redirect(url_for("operations.notification_problems"))
