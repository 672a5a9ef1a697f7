"""Staff pages for supervising listed institutions (Art. 12, 15, 17)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from qzt.auth.permissions import staff_required
from qzt.core import audit
from qzt.core.http import client_ip
from qzt.extensions import db
from qzt.models import Institution, ListingState
from qzt.rules.sanctions import EXPULSION_CAUSES
from qzt.supervision import bp, services
from qzt.supervision.forms import SanctionForm

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


@bp.get("/institutions")
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
    )


@bp.get("/institutions/<id:institution_id>")
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


@bp.post("/institutions/<id:institution_id>/<action>")
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
