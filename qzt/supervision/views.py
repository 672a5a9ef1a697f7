"""Staff pages for supervising listed institutions (Art. 12, 15, 17)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from qzt.auth.permissions import roles_required, staff_required
from qzt.core import audit, clock
from qzt.core.http import client_ip
from qzt.extensions import db
from qzt.models import Consultation, Institution, ListingState, Rating, Role
from qzt.rules.sanctions import EXPULSION_CAUSES
from qzt.supervision import bp, ratings, services
from qzt.supervision.forms import NoteForm, RatingForm, SanctionForm, VerdictForm

# The timeline in words.
TIMELINE = {
    "hide": "隐藏主页",
    "unhide": "恢复显示",
    "expel": "清退",
    "remove": "清理",
    "hide_one_month_rule": "第十七条自动隐藏",
    "show_one_month_rule": "第十七条自动恢复显示",
    "edit_homepage": "修改机构主页",
}

ACTIONS = {
    "hide": (services.hide, "已隐藏机构主页"),
    "unhide": (services.unhide, "已恢复显示"),
    "remove": (services.remove, "已清理该机构"),
}


@bp.get("/staff/institutions")
@staff_required
def institutions():
    """Institutions by listing state, searchable by name."""
    state = (
        request.args.get("state") if request.args.get("state") in {s.value for s in ListingState} else None
    )
    q = (request.args.get("q") or "").strip()[:100]
    rows = services.institutions(state, q)
    return render_template(
        "supervision/institutions.html",
        rows=rows,
        state=state,
        q=q,
        states=[(s.value, s.label) for s in ListingState if s != ListingState.PENDING],
        lapsed={i.id for i in rows if services.all_certificates_expired(i, clock.today())},
    )


@bp.get("/staff/institutions/<id:institution_id>")
@staff_required
def institution(institution_id: int):
    """One institution: its facts, the actions this user may take, its timeline."""
    inst = db.session.get(Institution, institution_id) or abort(404)
    return _render(inst, SanctionForm(formdata=None))


def _render(inst: Institution, form: SanctionForm, status: int = 200):
    return render_template(
        "supervision/institution.html",
        inst=inst,
        form=form,
        timeline=audit.history(inst),
        timeline_words=TIMELINE,
        causes=EXPULSION_CAUSES,
    ), status


@bp.post("/staff/institutions/<id:institution_id>/<action>")
@staff_required
def act(institution_id: int, action: str):
    """[隐藏主页] [恢复显示] [清退] [清理]."""
    inst = db.session.get(Institution, institution_id) or abort(404)
    if action not in (*ACTIONS, "expel"):
        abort(404)
    form = SanctionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if action == "expel":
            services.expel(
                inst, current_user, form.cause.data, form.reason.data, form.evidence.data, ip=client_ip()
            )
            done = "已清退该机构，清退通知已发出"
        else:
            apply, done = ACTIONS[action]
            apply(inst, current_user, form.reason.data, ip=client_ip())
    except services.SanctionRefused as refused:
        db.session.rollback()
        form.form_errors.append(str(refused))
        return _render(inst, form, 422)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("supervision.institution", institution_id=inst.id))


# --- ratings and the follow-up of negative ones (Art. 15; Annex 2 item 10) ---


def _back(rating_or_consultation) -> str:
    consultation_id = getattr(rating_or_consultation, "consultation_id", None) or rating_or_consultation.id
    return url_for("consultations.thread", consultation_id=consultation_id) + "#rating"


def _carry_out(change, done: str, target: str):
    try:
        change()
    except ratings.RatingRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(target)


@bp.post("/consultations/<id:consultation_id>/rating")
@roles_required(Role.ENTERPRISE)
def rate(consultation_id: int):
    """[提交评价]."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or consultation.client_id != current_user.id:
        abort(404)
    form = RatingForm()
    if not form.validate_on_submit():
        abort(400)
    return _carry_out(
        lambda: ratings.rate(
            consultation, current_user, form.chosen_stars(), form.comment.data, clock.today()
        ),
        "感谢您的评价",
        _back(consultation),
    )


def _rating_or_404(rating_id: int) -> Rating:
    rating = db.session.get(Rating, rating_id)
    if rating is None:
        abort(404)
    user = current_user
    if not (
        user.is_staff
        or user.id == rating.consultation.client_id
        or ratings.answers_for(user, rating.institution_id)
    ):
        abort(404)
    return rating


@bp.post("/ratings/<id:rating_id>/follow-up")
@login_required
def follow_up(rating_id: int):
    """[提交跟进] by the institution, or the operator's [记录跟进]."""
    rating = _rating_or_404(rating_id)
    form = NoteForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_staff:
        return _carry_out(
            lambda: ratings.operator_follow_up(rating, current_user, form.note.data),
            "已记录运维跟进",
            url_for("supervision.follow_ups"),
        )
    return _carry_out(
        lambda: ratings.institution_follow_up(rating, current_user, form.note.data),
        "跟进说明已提交",
        _back(rating),
    )


@bp.post("/ratings/<id:rating_id>/verdict")
@roles_required(Role.ENTERPRISE)
def verdict(rating_id: int):
    """[满意] or [不满意]."""
    rating = _rating_or_404(rating_id)
    form = VerdictForm()
    if not form.validate_on_submit() or form.verdict.data not in ("satisfied", "unsatisfied"):
        abort(400)
    return _carry_out(
        lambda: ratings.verdict(rating, current_user, form.verdict.data == "satisfied"),
        "已反馈",
        _back(rating),
    )


@bp.get("/staff/follow-ups")
@staff_required
def follow_ups():
    """差评跟进: open ones first, overdue first."""
    return render_template(
        "supervision/follow_ups.html",
        rows=ratings.follow_ups(clock.today()),
        today=clock.today(),
        form=NoteForm(),
    )
