"""Registration and the onboarding wizard (Art. 5–10)."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from qzt.auth import codes, sessions
from qzt.auth.permissions import applicant_required
from qzt.auth.services import AccountError, create_user, register_enterprise
from qzt.auth.views import request_code
from qzt.core import clock, files
from qzt.core.calendar import work_calendar
from qzt.core.http import client_ip, safe_next
from qzt.core.limits import GUESSING
from qzt.extensions import db, limiter
from qzt.models import Role, WithdrawalRequest
from qzt.onboarding import bp, draft, services
from qzt.onboarding.forms import STEP_FORMS, FieldCheckForm, RegisterForm
from qzt.pledges import signing, texts
from qzt.pledges.forms import PledgeForm
from qzt.rules import assessment, eligibility, upkeep
from qzt.rules import codes as code_rules
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


def _render_step(application, step, errors, status=200, pledge_form=None):
    data, today = application.data, clock.today()
    steps = draft.steps_for(data)
    numbers = [s.number for s in steps]
    context = {
        "application": application,
        "data": _starting_rows(step, data),
        "step": step,
        "steps": steps,
        "errors": errors,
        "error_list": draft.in_form_order(errors),
        "done": draft.done_steps(data, today, pledge_signed=services.pledge_problem(application) is None),
        "position": numbers.index(step.number) + 1 if step.number in numbers else 1,
        "prev_number": draft.neighbour(data, step, -1),
        "step_position": {n: i + 1 for i, n in enumerate(numbers)},
        "file_names": files.file_names(data),
        "needs_case": eligibility.needs_case_evidence(data.get("services", [])),
        "needs_equipment": eligibility.needs_equipment_evidence(data.get("services", [])),
        "case_categories": eligibility.case_evidence_categories(data.get("services", [])),
        "MAX_ROWS": draft.MAX_ROWS,
        "MIN_INTRODUCTION": draft.MIN_INTRODUCTION,
    }
    if step == draft.PLEDGE_STEP:
        context.update(
            pledge=texts.current(), form=pledge_form or PledgeForm(), signature=signing.latest(application)
        )
    if step == draft.SUMMARY_STEP:
        context["problems"] = services.problems(application, today)
    return render_template(f"onboarding/step_{step.slug}.html", **context), status


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
        application.step = number
        db.session.commit()
        return _render_step(application, step, {})
    form = STEP_FORMS.get(step.slug) or abort(405)  # the pledge and the summary post elsewhere
    form = form()
    if not form.validate_on_submit():
        abort(400)
    errors = services.save_step(application, step.slug, form.sent(), current_user)
    action = form.action.data
    if services.apply_row_action(application, action):
        db.session.commit()
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


@bp.post("/onboarding/check/<field>")
@applicant_required
def check_field(field: str):
    """htmx inline validation of one basic-information field; returns the field's message element."""
    if field not in draft.BASIC_FIELDS:
        abort(404)
    form = FieldCheckForm(meta={"csrf": False})  # htmx sends the token in a header; CSRFProtect checks it
    message = draft.basic_errors({field: form[field].data}).get(field)
    return render_template("onboarding/_field_message.html", field=field, message_text=message)


@bp.post("/onboarding/sign")
@applicant_required
def sign():
    """[签署承诺书]: typed name, drawn signature, password again (step-up), consent."""
    application = services.application_for(current_user)
    if not services.may_sign(application):
        return redirect(url_for("onboarding.start"))
    form = PledgeForm()
    pledge_step = draft.PLEDGE_STEP
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
    application.step = draft.SUMMARY_STEP.number
    db.session.commit()
    return redirect(url_for("onboarding.step", number=draft.SUMMARY_STEP.number))


@bp.post("/onboarding/submit")
@applicant_required
def submit():
    """[提交申请]: refused with the list of what is missing."""
    application = services.application_for(current_user)
    try:
        services.submit(application, clock.today(), ip=client_ip())
    except services.SubmitRefused:
        return _render_step(application, draft.SUMMARY_STEP, {}, 422)
    db.session.commit()
    flash("入驻申请已提交，请留意审核通知", "success")
    return redirect(url_for("onboarding.start"))
