"""Registration and the onboarding wizard (Art. 5–10)."""

import base64
import binascii
from datetime import date
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from qzt import files, pledges
from qzt.auth.services import AccountError, create_user
from qzt.extensions import db
from qzt.models import Role
from qzt.models.base import MAX_ID
from qzt.onboarding import bp, draft, services, signing
from qzt.onboarding.forms import PledgeForm, RegisterForm
from qzt.review import exits
from qzt.rules import eligibility
from qzt.rules.admission import TransitionRefused
from qzt.rules.uploads import UploadRejected

STEP_BY_NUMBER = {s.number: s for s in draft.STEPS}


def applicant_required(view):
    """Only institution accounts have an application; staff and enterprises get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role != Role.INSTITUTION:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/register", methods=["GET", "POST"])
def register():
    """机构入驻: an account for an applicant institution."""
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = create_user(Role.INSTITUTION, form.phone.data, form.phone.data, form.password.data)
        except AccountError as error:
            form.phone.errors.append(str(error))
        else:
            services.application_for(user)
            db.session.commit()
            login_user(user)
            flash("注册成功，请填写入驻申请", "success")
            return redirect(url_for("onboarding.start"))
    return render_template("onboarding/register.html", form=form), 422 if form.errors else 200


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
    return render_template(
        "onboarding/status.html",
        application=application,
        signature=signing.latest(application),
        withdrawal=exits.open_request(institution) if institution else None,
        new_pledge=pledges.current() if services.needs_new_signature(application) else None,
    )


def _render_step(application, step, errors, status=200, pledge_form=None):
    data, today = application.data, date.today()
    steps = draft.steps_for(data)
    numbers = [s.number for s in steps]
    done = {
        s.number
        for s in steps
        if s.slug not in ("pledge", "summary") and not draft.step_errors(s.slug, data, today)
    }
    if services.pledge_problem(application) is None:
        done.add(7)
    context = {
        "application": application,
        "data": data,
        "step": step,
        "steps": steps,
        "errors": errors,
        "done": done,
        "position": numbers.index(step.number) + 1 if step.number in numbers else 1,
        "prev_number": _neighbour(application, step, -1),
        "step_position": {n: i + 1 for i, n in enumerate(numbers)},
        "file_names": services.file_names(data),
        "needs_case": eligibility.needs_case_evidence(data.get("services", [])),
        "needs_equipment": eligibility.needs_equipment_evidence(data.get("services", [])),
        "case_categories": eligibility.case_evidence_categories(data.get("services", [])),
    }
    if step.slug == "pledge":
        context.update(
            pledge=pledges.current(), form=pledge_form or PledgeForm(), signature=signing.latest(application)
        )
    if step.slug == "summary":
        context["problems"] = services.problems(application, today)
    return render_template(f"onboarding/step_{step.slug}.html", **context), status


def _neighbour(application, step, direction: int):
    numbers = [s.number for s in draft.steps_for(application.data)]
    index = numbers.index(step.number) if step.number in numbers else 0
    return numbers[max(0, min(len(numbers) - 1, index + direction))]


@bp.route("/onboarding/step/<int:number>", methods=["GET", "POST"])
@applicant_required
def step(number: int):
    """One wizard step: every POST saves; [下一步] advances only when the step is complete."""
    step = STEP_BY_NUMBER.get(number) or abort(404)
    application = services.application_for(current_user)
    if not application.is_editable and not (
        step.slug == "pledge" and services.needs_new_signature(application)
    ):
        return redirect(url_for("onboarding.start"))
    if request.method == "GET":
        application.step = number
        db.session.commit()
        return _render_step(application, step, {})
    if step.slug in ("pledge", "summary"):
        abort(405)
    errors = services.save_step(application, step.slug, request.form, request.files, current_user)
    action = request.form.get("action", "save")
    if services.apply_row_action(application, action):
        db.session.commit()
        return _render_step(application, step, errors)
    if action == "next":
        services.drop_blank_rows(application)
        errors = {**draft.step_errors(step.slug, application.data, date.today()), **errors}
    application.step = number
    db.session.commit()
    if errors:
        return _render_step(application, step, errors, 422)
    if action == "save":
        flash("草稿已保存，可随时回来继续填写", "success")
        return redirect(url_for("onboarding.step", number=number))
    return redirect(
        url_for("onboarding.step", number=_neighbour(application, step, -1 if action == "prev" else 1))
    )


@bp.post("/onboarding/check/<field>")
@applicant_required
def check_field(field: str):
    """htmx inline validation of one basic-information field; returns the field's message element."""
    if field not in draft.BASIC_FIELDS:
        abort(404)
    message = draft.basic_errors({field: request.form.get(field, "")}).get(field)
    return render_template("onboarding/_field_message.html", field=field, message=message)


def _signature_image(data_url: str):
    """The canvas drawing as a stored PNG; None when nothing was drawn (no JavaScript)."""
    prefix = "data:image/png;base64,"
    if not data_url or not data_url.startswith(prefix):
        return None
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise UploadRejected("签名图片无效，请清除后重新签名") from None
    return files.store_bytes(current_user, "signature", raw, "signature.png", images_only=True)


@bp.post("/onboarding/sign")
@applicant_required
def sign():
    """[签署承诺书]: typed name, drawn signature, password again (step-up), consent."""
    application = services.application_for(current_user)
    if not services.may_sign(application):
        return redirect(url_for("onboarding.start"))
    form = PledgeForm()
    pledge_step = STEP_BY_NUMBER[7]
    if not form.validate_on_submit():
        return _render_step(application, pledge_step, {}, 422, form)
    try:
        image = _signature_image(form.signature.data)
        signing.sign(
            application,
            current_user,
            typed_name=form.signer_name.data,
            password=form.password.data,
            agreed=form.agree.data,
            signature_image=image,
            ip=request.remote_addr or "",
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
    application.step = 8
    db.session.commit()
    return redirect(url_for("onboarding.step", number=8))


@bp.post("/onboarding/submit")
@applicant_required
def submit():
    """[提交申请]: refused with the list of what is missing."""
    application = services.application_for(current_user)
    try:
        services.submit(application, date.today())
    except services.SubmitRefused:
        return _render_step(application, STEP_BY_NUMBER[8], {}, 422)
    db.session.commit()
    flash("入驻申请已提交，请留意审核通知", "success")
    return redirect(url_for("onboarding.start"))


@bp.get(f"/files/<int(max={MAX_ID}):file_id>")
@login_required
def download(file_id: int):
    """An uploaded file, for its owner and staff only, always as an attachment."""
    stored = files.get_file_or_404(file_id, current_user)
    return files.send(stored)


@bp.post("/onboarding/withdraw")
@applicant_required
def withdraw():
    """[撤回申请] before a decision (Art. 12)."""
    application = services.application_for(current_user)
    try:
        exits.withdraw_application(application, current_user, date.today(), ip=request.remote_addr or "")
    except TransitionRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("onboarding.start"))
    db.session.commit()
    flash("申请已撤回", "success")
    return redirect(url_for("onboarding.start"))


@bp.post("/onboarding/withdrawal")
@applicant_required
def request_withdrawal():
    """[提交退出申请]: a listed institution files its written request with a letter (Art. 12)."""
    application = services.application_for(current_user)
    institution = application.institution or abort(404)
    try:
        letter = files.accept(current_user, "withdrawal_letter", request.files.get("letter"))
        if letter is None:
            raise exits.ExitRefused("请上传加盖公章的书面退出申请（PDF、JPG或PNG）")
        exits.request_withdrawal(
            institution,
            current_user,
            letter,
            request.form.get("reason", "")[:2000],
            ip=request.remote_addr or "",
        )
    except (UploadRejected, exits.ExitRefused) as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("onboarding.start"))
    db.session.commit()
    flash("退出申请已提交，平台运维机构将协助处理遗留问题", "success")
    return redirect(url_for("onboarding.start"))
