"""Registration and the onboarding wizard (Art. 5–10)."""

import base64
import re

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from qzt.auth import codes, sessions
from qzt.auth.permissions import applicant_required
from qzt.auth.services import AccountError, NumberTaken, create_user, register_enterprise
from qzt.auth.views import request_code
from qzt.core import clock, files
from qzt.core.calendar import work_calendar
from qzt.core.http import client_ip, is_fragment, safe_next
from qzt.core.limits import GUESSING
from qzt.extensions import db, limiter
from qzt.models import Role, WithdrawalRequest
from qzt.onboarding import bp, draft, services
from qzt.onboarding.forms import (
    STEP_FORMS,
    RegisterForm,
    ReviewStep,
    SignStep,
    SubmitStep,
    field_problem,
    sent_value,
)
from qzt.pledges import signing, texts
from qzt.rules import assessment, eligibility, regulation, upkeep
from qzt.rules import codes as code_rules
from qzt.rules import phone as phone_rules
from qzt.rules.uploads import UploadRejected


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(GUESSING, methods=["POST"])
def register():
    """注册: an enterprise account (back where it came from), or an applicant institution's (the wizard)."""
    form = RegisterForm(kind=request.args.get("kind"))  # the header's 机构入驻 link preselects

    def page(**status):
        return render_template("onboarding/register.html", form=form, **status)

    if request.form.get("action") == "code":
        return request_code(code_rules.REGISTER, page)
    if form.validate_on_submit():
        try:
            codes.prove(form.phone.data, code_rules.REGISTER, form.code.data)
        except codes.CodeError as refused:
            db.session.commit()  # a wrong try counts
            form.code.errors.append(str(refused))
            return page(), 422
        try:
            if form.kind.data == "enterprise":
                user = register_enterprise(
                    form.phone.data, form.password.data, form.company_name.data, form.company_uscc.data
                )
            else:
                user = create_user(Role.INSTITUTION, form.phone.data, form.phone.data, form.password.data)
                services.application_for(user)
        except NumberTaken:
            db.session.commit()  # the code is used up: it was proved, and nothing else was written
            return page(taken=phone_rules.normalize(form.phone.data)), 422
        except AccountError as error:
            db.session.rollback()
            form.phone.errors.append(str(error))
        else:
            db.session.commit()
            sessions.start(user)
            if user.role == Role.ENTERPRISE:
                flash("注册成功", "success")
                return redirect(safe_next(request.args.get("next"), "consultations.index"))
            flash("注册成功，请填写入驻申请", "success")
            return redirect(url_for("onboarding.start"))
    return page(), 422 if form.errors else 200


@bp.get("/guide")
def guide():
    """入驻指南: who may join, the requirements and materials, the steps and their times, from the
    regulation; for anyone, before registering."""
    return render_template(
        "onboarding/guide.html",
        screening_days=current_app.config.get("QZT_SCREENING_WORKING_DAYS", 5),
        homepage_days=upkeep.DEADLINE_WORKING_DAYS,
        featured=(eligibility.FEATURED_MIN, eligibility.FEATURED_MAX),
        agents=(eligibility.AGENTS_MIN, eligibility.AGENTS_MAX),
        grace_months=assessment.GRACE_MONTHS,
        cycle_months=assessment.CYCLE_MONTHS,
        pass_score=assessment.PASS_SCORE,
    )


@bp.get("/privacy")
def privacy():
    """隐私政策 (PIPL)."""
    return render_template("onboarding/privacy.html")


@bp.get("/regulation", endpoint="regulation")
def show_regulation():
    """The regulation in full, word for word: its articles (anchors art-1 … art-18) and annexes."""
    return render_template("onboarding/regulation.html", regulation=regulation.current())


@bp.get("/onboarding")
@applicant_required
def start():
    """Resume the wizard where the applicant stopped, or show the submitted application's state."""
    application = services.application_for(current_user)
    db.session.commit()
    if application.is_editable:
        return redirect(url_for("onboarding.step", number=application.step))
    institution = application.institution
    listed = institution is not None and institution.is_listed and institution.opened_on is not None
    return render_template(
        "onboarding/status.html",
        application=application,
        signature=signing.latest(application),
        withdrawal=WithdrawalRequest.open_for(institution) if institution else None,
        new_pledge=texts.current() if services.needs_new_signature(application) else None,
        screening_days=current_app.config.get("QZT_SCREENING_WORKING_DAYS", 5),
        homepage_due=upkeep.deadline(institution.opened_on, work_calendar()) if listed else None,
    )


def _starting_rows(step, data: dict) -> dict:
    """Steps 3 and 4 open with the rows the articles ask for at least, empty: two featured service
    items (Art. 7) and one customer-service agent (Art. 6). Shown only; saved when sent."""
    if step.slug == "services" and not data.get("services"):
        blank = {**dict.fromkeys(draft.SERVICE_FIELDS, ""), "featured": True}
        return {**data, "services": [dict(blank) for _ in range(eligibility.FEATURED_MIN)]}
    if step.slug == "agents" and not data.get("agents"):
        blank = dict.fromkeys(draft.AGENT_FIELDS, "")
        return {**data, "agents": [dict(blank) for _ in range(eligibility.AGENTS_MIN)]}
    return data


# The digest of the draft data the applicant last confirmed on the summary step (services.review_problem).
REVIEWED = "qzt_reviewed_sha256"


def _signature_image(signature) -> str | None:
    """The drawn signature as a data URL, to show it on the page (img-src allows data:)."""
    if signature is None or signature.signature_file is None:
        return None
    return "data:image/png;base64," + base64.b64encode(files.read(signature.signature_file)).decode()


def _render_step(application, step, errors, status=200, pledge_form=None):
    data, today = application.data, clock.today()
    pledge_signed = services.pledge_problem(application) is None
    reviewed = services.review_problem(application, session.get(REVIEWED)) is None
    context = {
        "application": application,
        "data": _starting_rows(step, data),
        "step": step,
        # Always all eight; a step that does not apply is shown as 不适用 and passed over.
        "steps": draft.STEPS,
        "skipped": {s.number for s in draft.STEPS if draft.skipped(s, data)},
        "errors": errors,
        "error_list": draft.in_form_order(errors),
        "done": draft.done_steps(data, today, reviewed=reviewed, pledge_signed=pledge_signed),
        "position": step.number,
        "prev_number": draft.neighbour(data, step, -1),
        "step_position": {s.number: s.number for s in draft.STEPS},
        "file_names": files.file_names(data),
        "needs_case": eligibility.needs_case_evidence(data.get("services", [])),
        "needs_equipment": eligibility.needs_equipment_evidence(data.get("services", [])),
        "case_categories": eligibility.case_evidence_categories(data.get("services", [])),
        "MAX_ROWS": draft.MAX_ROWS,
        "MIN_INTRODUCTION": draft.MIN_INTRODUCTION,
    }
    if step == draft.PLEDGE_STEP:
        signature = signing.latest(application)
        form = pledge_form or SignStep(reviewed=session.get(REVIEWED, ""))
        context.update(
            pledge=texts.current(),
            form=form,
            submit_form=SubmitStep(reviewed=form.reviewed.data),
            signature=signature,
            # Signed over what was reviewed: the drawn signature to look at once more, then [提交申请].
            signed=application.is_editable
            and pledge_signed
            and pledge_form is None
            and request.args.get("sign") != "again",
            signature_image=_signature_image(signature) if pledge_signed else None,
        )
    if step == draft.SUMMARY_STEP:
        context.update(
            problems=services.incomplete(application, today),
            form=ReviewStep(reviewed=services.digest(application)),
            evidence_applies=draft.evidence_applies(data),
        )
    return render_template(f"onboarding/step_{step.slug}.html", **context), status


_ADD_ROW = re.compile(r"add-([qsa])")
_ROW_ANCHOR = {"q": "qualification", "s": "service", "a": "agent"}  # a row's id: #service-3


def _row_added(application, step, prefix: str, before: int):
    """After [添加服务项目] and friends: htmx gets the new row (none at the maximum) and the add button
    again, to put in the button's place; a plain post returns to the page at the new row (#service-3)."""
    rows = application.data.get(services.ROWS[prefix][0], [])
    if is_fragment() and prefix in ("s", "a"):  # certificates carry files: their rows come with the page
        return render_template(
            "onboarding/_row_added.html",
            step=step,
            prefix=prefix,
            rows=rows,
            added=len(rows) > before,
            MAX_ROWS=draft.MAX_ROWS,
        )
    anchor = f"{_ROW_ANCHOR[prefix]}-{len(rows)}"
    return redirect(url_for("onboarding.step", number=step.number, _anchor=anchor))


@bp.route("/onboarding/step/<int:number>", methods=["GET", "POST"])
@applicant_required
def step(number: int):
    """One wizard step: every POST saves; [下一步] advances only when the step is complete."""
    step = draft.STEP_BY_NUMBER.get(number) or abort(404)
    application = services.application_for(current_user)
    if not application.is_editable and not (
        step == draft.PLEDGE_STEP and services.needs_new_signature(application)
    ):
        return redirect(url_for("onboarding.start"))
    if request.method == "GET":
        if draft.skipped(step, application.data):  # 不适用: on to the next step that applies
            return redirect(url_for("onboarding.step", number=draft.neighbour(application.data, step, 1)))
        if step == draft.PLEDGE_STEP and application.is_editable:
            if problem := services.review_problem(application, session.get(REVIEWED)):
                flash(problem, "error" if problem == services.CHANGED_SINCE_REVIEW else "warning")
                return redirect(url_for("onboarding.step", number=draft.SUMMARY_STEP.number))
        application.step = number
        db.session.commit()
        return _render_step(application, step, {})
    if step == draft.SUMMARY_STEP:
        return _review(application)
    form = STEP_FORMS.get(step.slug) or abort(405)  # the pledge posts to sign and submit
    form = form()
    if not form.validate_on_submit():
        abort(400)
    errors = services.save_step(application, step.slug, form.sent(), current_user)
    action = form.action.data
    adding = _ADD_ROW.fullmatch(action or "")
    before = len(application.data.get(services.ROWS[adding[1]][0], [])) if adding else 0
    if services.apply_row_action(application, action):
        db.session.commit()
        if adding and not errors:
            return _row_added(application, step, adding[1], before)
        return _render_step(application, step, errors)
    if action == "next":
        services.drop_blank_rows(application)
        errors = {**draft.step_errors(step.slug, application.data, clock.today()), **errors}
    application.step = number
    db.session.commit()
    if errors:
        return _render_step(application, step, errors, 422)
    if action not in ("prev", "next"):
        flash("草稿已保存，可随时回来继续填写", "success")
        return redirect(url_for("onboarding.step", number=number))
    return redirect(
        url_for(
            "onboarding.step", number=draft.neighbour(application.data, step, -1 if action == "prev" else 1)
        )
    )


def _review(application):
    """The summary step's [确认无误，下一步]: records the digest of the data the page showed, which the
    pledge step then signs and submits, provided the data is still the same; [上一步] goes back."""
    form = ReviewStep()
    if not form.validate_on_submit():
        abort(400)
    summary = draft.SUMMARY_STEP
    if form.action.data == "prev":
        return redirect(url_for("onboarding.step", number=draft.neighbour(application.data, summary, -1)))
    if form.reviewed.data != services.digest(application):
        flash("申请资料在您打开本页后有修改（可能是在其他窗口改过），请重新核对下面的内容", "error")
        return redirect(url_for("onboarding.step", number=summary.number))
    if services.incomplete(application, clock.today()):
        return _render_step(application, summary, {}, 422)
    session[REVIEWED] = form.reviewed.data
    application.step = draft.PLEDGE_STEP.number
    db.session.commit()
    return redirect(url_for("onboarding.step", number=draft.PLEDGE_STEP.number))


def _back_to_review(problem: str):
    flash(problem, "error")
    return redirect(url_for("onboarding.step", number=draft.SUMMARY_STEP.number))


@bp.post("/onboarding/check/<field>")
@applicant_required
def check_field(field: str):
    """htmx inline check of one wizard field as it is left (CSRFProtect checks the header htmx sends);
    returns the field's message element: the problem, or 格式正确 for a number, or empty."""
    try:
        message = field_problem(field, sent_value(field, request.form), clock.today())
    except KeyError:
        abort(404)
    ok = "✓ 格式正确" if field.rsplit("-", 1)[-1] in ("uscc", "phone") else None
    return render_template("onboarding/_field_message.html", field=field, message_text=message, ok=ok)


@bp.post("/onboarding/sign")
@applicant_required
def sign():
    """[签署承诺书]: typed name, drawn signature, password again (step-up), consent."""
    application = services.application_for(current_user)
    if not services.may_sign(application):
        return redirect(url_for("onboarding.start"))
    form = SignStep()
    pledge_step = draft.PLEDGE_STEP
    if application.is_editable and (
        problem := services.review_problem(application, session.get(REVIEWED), form.reviewed.data or "")
    ):
        return _back_to_review(problem)
    if not form.validate_on_submit():
        return _render_step(application, pledge_step, {}, 422, form)
    try:
        signing.sign(
            application,
            current_user,
            typed_name=form.signer_name.data,
            password=form.password.data,
            agreed=form.agree.data,
            drawing=form.signature.data,
            ip=client_ip(),
            user_agent=request.user_agent.string,
        )
    except (signing.SigningError, UploadRejected) as error:
        db.session.rollback()
        form.password.errors.append(str(error))
        return _render_step(application, pledge_step, {}, 422, form)
    flash("承诺书已签署", "success")
    if not application.is_editable:  # a listed institution signing a new version
        db.session.commit()
        return redirect(url_for("onboarding.start"))
    application.step = pledge_step.number
    db.session.commit()
    return redirect(url_for("onboarding.step", number=pledge_step.number))


@bp.post("/onboarding/submit")
@applicant_required
def submit():
    """[提交申请]: only what was reviewed and signed; refused with the list of what is missing."""
    application = services.application_for(current_user)
    form = SubmitStep()
    if application.is_editable and (
        problem := services.review_problem(application, session.get(REVIEWED), form.reviewed.data or "")
    ):
        return _back_to_review(problem)
    try:
        services.submit(application, clock.today(), ip=client_ip())
    except services.SubmitRefused as refused:
        if application.is_editable and not services.incomplete(application, clock.today()):
            flash(str(refused), "error")  # reviewed, but not signed (or not over this version)
            return redirect(url_for("onboarding.step", number=draft.PLEDGE_STEP.number))
        return _render_step(application, draft.SUMMARY_STEP, {}, 422)
    db.session.commit()
    session.pop(REVIEWED, None)
    flash("入驻申请已提交，请留意审核通知", "success")
    return redirect(url_for("onboarding.start"))
