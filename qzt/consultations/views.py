"""Consultation pages: the form on an institution, the lists, a thread, the workbench, staff figures."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from qzt.auth.permissions import roles_required, staff_required
from qzt.auth.services import AccountError
from qzt.consultations import agents, bp, cases, services
from qzt.consultations import homepage as homepage_service
from qzt.consultations.forms import (
    AgentForm,
    CaseFilterForm,
    CaseForm,
    ChangeDecisionForm,
    ConsultForm,
    DealDecisionForm,
    HomepageForm,
    NameChangeForm,
    QualificationChangeForm,
    ReplyForm,
)
from qzt.core import clock, sms, tables
from qzt.core.database import Conflict, commit_or_conflict
from qzt.core.forms import EmptyForm
from qzt.core.http import client_ip, is_fragment
from qzt.extensions import db
from qzt.models import CaseState, Consultation, HomepageChange, Institution, Role
from qzt.rules import upkeep
from qzt.rules.uploads import UploadRejected


def get_consultation_or_404(consultation_id: int) -> Consultation:
    """The thread, for its enterprise, the institution that answers it, and staff; 404 for anyone else."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or not services.can_see(current_user, consultation):
        abort(404)
    return consultation


def _writable_or_404(consultation_id: int) -> Consultation:
    """The thread for its two sides; staff may read it but not write in it (403)."""
    consultation = get_consultation_or_404(consultation_id)
    if services.side_of(current_user, consultation) is None:
        abort(403)
    return consultation


@bp.route("/institutions/<id:institution_id>/consult", methods=["GET", "POST"])
@login_required
def consult(institution_id: int):
    """[在线咨询] on an institution's homepage; visitors log in (or register) and come back here."""
    institution = db.session.get(Institution, institution_id)
    if institution is None or not institution.is_listed:
        abort(404)
    if current_user.role != Role.ENTERPRISE:
        return render_template("consultations/enterprise_only.html", institution=institution), 403
    form = ConsultForm()
    form.service_item.choices = [
        SelectChoice(str(s.id), f"{s.category_name} · {s.title}") for s in institution.services
    ] + [SelectChoice("", services.OTHER_TOPIC)]
    if form.validate_on_submit():
        try:
            consultation = services.ask(
                institution,
                current_user,
                service_item_id=form.chosen_item_id(),
                body=form.body.data,
                upload=form.attachment.data,
            )
        except (services.ConsultRefused, UploadRejected) as refused:
            db.session.rollback()
            form.body.errors.append(str(refused))
        else:
            db.session.commit()
            flash("咨询已提交，机构客服将按《管理办法》第十四条的时限回复", "success")
            return redirect(url_for("consultations.thread", consultation_id=consultation.id))
    status = 422 if form.errors else 200
    return render_template("consultations/consult.html", institution=institution, form=form), status


@bp.get("/consultations")
@roles_required(Role.ENTERPRISE, Role.INSTITUTION, Role.AGENT)
def index():
    """我的咨询 (an enterprise) or the institution's consultations, unanswered first."""
    institution = services.managed_institution(current_user)
    if current_user.role == Role.ENTERPRISE:
        rows = services.for_client(current_user)
    elif institution is not None:
        rows = services.for_institution(institution)
    else:
        rows = []
    return render_template("consultations/index.html", rows=rows, institution=institution, now=clock.now())


@bp.get("/consultations/<id:consultation_id>")
@login_required
def thread(consultation_id: int):
    """A thread: the messages in order, the Art. 14 deadline, the reply form while it is open."""
    return _render_thread(_read(consultation_id), ReplyForm())


def _read(consultation_id: int) -> Consultation:
    """The thread, now read by the user (the header's unread count drops)."""
    consultation = get_consultation_or_404(consultation_id)
    services.mark_read(consultation, current_user)
    db.session.commit()
    return consultation


def _render_thread(consultation: Consultation, form: ReplyForm, status: int = 200):
    template = "consultations/_messages.html" if is_fragment() else "consultations/thread.html"
    side = services.side_of(current_user, consultation)
    return render_template(
        template, consultation=consultation, form=form, side=side, now=clock.now(), close_form=EmptyForm()
    ), status


@bp.get("/consultations/<id:consultation_id>/messages")
@login_required
def messages(consultation_id: int):
    """The messages alone, for the open thread's polling (htmx, every few seconds)."""
    return render_template(
        "consultations/_messages.html", consultation=_read(consultation_id), now=clock.now()
    )


@bp.post("/consultations/<id:consultation_id>/messages")
@login_required
def send(consultation_id: int):
    """[发送回复]."""
    consultation = _writable_or_404(consultation_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            services.reply(consultation, current_user, form.body.data, form.attachment.data)
            commit_or_conflict()
        except (services.ConsultRefused, UploadRejected) as refused:
            db.session.rollback()
            form.body.errors.append(str(refused))
            return _render_thread(consultation, form, 422)
        except Conflict:  # the other side wrote at the same moment: the thread is shown anew, text kept
            db.session.refresh(consultation)
            form.body.errors.append("对方刚刚发来新消息，请查看后重新发送（您填写的内容仍在下方）")
            return _render_thread(consultation, form, 409)
    return redirect(url_for("consultations.thread", consultation_id=consultation.id) + "#latest")


@bp.post("/consultations/<id:consultation_id>/close")
@login_required
def close(consultation_id: int):
    """[结束咨询]."""
    consultation = _writable_or_404(consultation_id)
    if EmptyForm().validate_on_submit():
        try:
            services.close(consultation, current_user)
            commit_or_conflict()
        except (services.ConsultRefused, Conflict) as refused:
            db.session.rollback()
            flash(str(refused) or "咨询刚刚有新消息，请查看后再结束", "error")
        else:
            flash("咨询已结束", "success")
    return redirect(url_for("consultations.thread", consultation_id=consultation.id))


@bp.get("/workbench")
@roles_required(Role.INSTITUTION, Role.AGENT)
def workbench():
    """机构工作台: this month's Art. 14 figures and the consultations waiting for a reply."""
    institution = services.managed_institution(current_user)
    if institution is None:
        return redirect(url_for("onboarding.start"))
    now = clock.now()
    start, end = services.month_bounds(now)
    month = next(iter(services.figures(start, end, now, institution.id)), None)
    waiting = [c for c in services.for_institution(institution) if c.first_reply_at is None and c.is_open]
    return render_template(
        "consultations/workbench.html",
        institution=institution,
        month=month,
        waiting=waiting,
        now=now,
        upkeep=services.upkeep(institution, clock.today()),
        progress=cases.progress(institution, clock.today()),
    )


@bp.get("/staff/consultations")
@staff_required
def staff_figures():
    """Every institution's Art. 14 figures this month, worst first."""
    now = clock.now()
    start, end = services.month_bounds(now)
    rows = services.figures(start, end, now)
    names = (
        dict(
            db.session.execute(
                db.select(Institution.id, Institution.name).where(
                    Institution.id.in_([r.institution_id for r in rows])
                )
            ).all()
        )
        if rows
        else {}
    )
    rows.sort(key=lambda r: (-(r.overdue + r.unanswered), -(r.average.total_seconds() if r.average else 0)))
    return render_template("consultations/staff.html", rows=rows, names=names, month=start)


# --- orders and case reports (Art. 13; Annex 2 item 6, note 2) ---


@bp.post("/consultations/<id:consultation_id>/deal")
@roles_required(Role.INSTITUTION, Role.AGENT)
def deal(consultation_id: int):
    """[已成交]: drafts the case report and asks the enterprise to confirm."""
    consultation = _writable_or_404(consultation_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        case = cases.mark_deal(consultation, current_user, ip=client_ip())
    except services.ConsultRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("consultations.thread", consultation_id=consultation.id))
    db.session.commit()
    flash("已标记成交并生成案例草稿，请核对后报送", "success")
    return redirect(url_for("consultations.case", case_id=case.id))


@bp.post("/consultations/<id:consultation_id>/deal/decision")
@roles_required(Role.ENTERPRISE)
def deal_decision(consultation_id: int):
    """[确认成交] or [不属实], by the enterprise."""
    consultation = _writable_or_404(consultation_id)
    form = DealDecisionForm()
    if form.validate_on_submit() and form.decision.data in ("confirm", "dispute"):
        try:
            cases.confirm_deal(consultation, current_user, form.decision.data == "confirm", ip=client_ip())
        except services.ConsultRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
        else:
            db.session.commit()
            flash("已确认成交" if form.decision.data == "confirm" else "已反馈：成交不属实", "success")
    return redirect(url_for("consultations.thread", consultation_id=consultation.id))


@bp.get("/cases")
@roles_required(Role.INSTITUTION, Role.AGENT)
def my_cases():
    """The institution's case reports, drafts and submitted, and this year's progress."""
    institution = services.managed_institution(current_user) or abort(404)
    return render_template(
        "consultations/cases.html",
        institution=institution,
        rows=cases.for_institution(institution),
        progress=cases.progress(institution, clock.today()),
    )


@bp.route("/cases/<id:case_id>", methods=["GET", "POST"])
@roles_required(Role.INSTITUTION, Role.AGENT)
def case(case_id: int):
    """A case report: edit the Art. 13 fields, [保存草稿] or [报送案例]."""
    report = cases.case_of_user(case_id, current_user) or abort(404)
    form = CaseForm(obj=report)
    if form.validate_on_submit() and report.state == CaseState.DRAFT:
        given = cases.CaseInput(**{name: form[name].data for name in cases.FIELD_LABELS})
        try:
            cases.save(report, given)
            if form.action.data == "submit":
                cases.submit(report, current_user, ip=client_ip())
        except services.ConsultRefused as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            db.session.commit()
            flash("案例已报送" if report.state == CaseState.SUBMITTED else "草稿已保存", "success")
            return redirect(url_for("consultations.case", case_id=report.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("consultations/case.html", case=report, form=form), status


@bp.get("/staff/cases")
@staff_required
def staff_cases():
    """Every submitted case report, filtered by institution name and submission period."""
    filters = CaseFilterForm(request.args)
    rows = _filtered_cases(filters)
    return render_template("consultations/staff_cases.html", rows=rows, filters=filters)


@bp.get("/staff/cases.xlsx")
@staff_required
def staff_cases_export():
    """The same list as an Excel workbook."""
    data = cases.export_xlsx(_filtered_cases(CaseFilterForm(request.args)))
    return tables.download(data, tables.XLSX, "cases.xlsx", f"成功服务案例-{clock.today():%Y%m%d}.xlsx")


def _filtered_cases(filters: CaseFilterForm) -> list:
    rows = cases.reported(None, filters.start.data, filters.end.data)
    name = (filters.institution.data or "")[:100]
    return [c for c in rows if name in c.institution.name] if name else rows


# --- customer-service agents (Art. 6, 14) ---


def _owned_institution() -> Institution:
    """The institution of the account that applied for it; agents and others get 403."""
    if current_user.role != Role.INSTITUTION:
        abort(403)
    return services.managed_institution(current_user) or abort(404)


@bp.route("/workbench/agents", methods=["GET", "POST"])
@roles_required(Role.INSTITUTION)
def agents_page():
    """The institution's 1–2 agents and their logins; [添加客服人员]."""
    institution = _owned_institution()
    form, code = AgentForm(), None
    if form.validate_on_submit():
        try:
            code = agents.add(
                institution,
                current_user,
                name=form.name.data,
                mobile=form.mobile.data,
                hours=form.hours.data,
                ip=client_ip(),
            )
        except (services.ConsultRefused, AccountError) as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            db.session.commit()
            flash(f"已添加客服人员 {form.name.data}，验证码已通过短信发送", "success")
            form = AgentForm(formdata=None)
    status = 422 if form.form_errors else 200
    return render_template(
        "consultations/agents.html",
        institution=institution,
        form=form,
        demo_code=code if code and sms.is_log_backend(current_app.config) else None,
        action_form=EmptyForm(),
    ), status


@bp.post("/workbench/agents/<id:agent_id>/<step>")
@roles_required(Role.INSTITUTION)
def agent_step(agent_id: int, step: str):
    """[重发验证码] or [移除]."""
    institution = _owned_institution()
    agent = next((a for a in institution.agents if a.id == agent_id), None) or abort(404)
    if step not in ("resend", "remove") or not EmptyForm().validate_on_submit():
        abort(404)
    try:
        code = agents.resend(agent, current_user, client_ip()) if step == "resend" else None
        if step == "remove":
            agents.remove(agent, current_user, client_ip())
    except services.ConsultRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("consultations.agents_page"))
    db.session.commit()
    if code and sms.is_log_backend(current_app.config):
        flash(f"验证码已重新发送（演示环境验证码：{code}）", "success")
    else:
        flash("验证码已重新发送" if code else "已移除该客服人员，其历史回复保留", "success")
    return redirect(url_for("consultations.agents_page"))


# --- homepage upkeep (Art. 13) ---


@bp.route("/workbench/homepage", methods=["GET", "POST"])
@roles_required(Role.INSTITUTION)
def homepage():
    """[机构主页维护]: introduction, address, phone and service items go live at once."""
    institution = _owned_institution()
    form, errors = HomepageForm(), {}
    if form.validate_on_submit():
        given = homepage_service.HomepageInput(
            form.introduction.data, form.address.data, form.phone.data, form.services()
        )
        errors = homepage_service.problems(given)
        if not errors:
            homepage_service.edit(institution, current_user, given, ip=client_ip())
            db.session.commit()
            flash("机构主页已更新", "success")
            return redirect(url_for("consultations.homepage"))
    return _render_homepage(institution, form if form.is_submitted() else None, errors)


def _render_homepage(institution, form=None, errors=None, name_form=None, cert_form=None, status=None):
    """The page with what was typed kept: the live form's rows come from the post, or from the homepage."""
    if form is not None:
        rows = form.services()
        values = {
            "introduction": form.introduction.data,
            "address": form.address.data,
            "phone": form.phone.data,
        }
    else:
        rows = [
            {"category": s.category, "title": s.title, "content": s.content, "featured": s.featured}
            for s in institution.services
        ]
        values = {
            "introduction": institution.introduction,
            "address": institution.address,
            "phone": institution.phone,
        }
    rows = [*rows, {"category": "", "title": "", "content": "", "featured": False}]  # room for one more
    errors = errors or {}
    return render_template(
        "consultations/homepage.html",
        institution=institution,
        values=values,
        rows=rows,
        errors=errors,
        name_form=name_form or NameChangeForm(formdata=None),
        cert_form=cert_form or QualificationChangeForm(formdata=None),
        changes=homepage_service.changes_of(institution),
        MIN_INTRODUCTION=upkeep.INTRODUCTION_MIN,
    ), status or (422 if errors else 200)


@bp.post("/workbench/homepage/changes/<kind>")
@roles_required(Role.INSTITUTION)
def propose_change(kind: str):
    """[申请变更名称] or [提交资质证书]: live once the operator accepts (变更审核)."""
    institution = _owned_institution()
    name_form, cert_form = NameChangeForm(), QualificationChangeForm()
    if kind not in ("name", "qualification"):
        abort(404)
    form = name_form if kind == "name" else cert_form
    if form.validate_on_submit():
        try:
            if kind == "name":
                homepage_service.propose_name(institution, current_user, name_form.name.data, ip=client_ip())
            else:
                homepage_service.propose_qualification(
                    institution,
                    current_user,
                    name=cert_form.q_name.data,
                    number=cert_form.q_number.data,
                    issuer=cert_form.q_issuer.data,
                    valid_until=cert_form.q_valid_until.data,
                    upload=cert_form.q_file.data,
                    today=clock.today(),
                    ip=client_ip(),
                )
        except (services.ConsultRefused, UploadRejected) as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
            return _render_homepage(institution, name_form=name_form, cert_form=cert_form, status=422)
        db.session.commit()
        flash("变更已提交，平台运维机构审核通过后在主页公示", "success")
    return redirect(url_for("consultations.homepage"))


@bp.get("/staff/changes")
@staff_required
def staff_changes():
    """变更审核: names and certificates waiting for the operator; the feed of live homepage edits."""
    return render_template(
        "consultations/staff_changes.html",
        pending=homepage_service.pending(),
        edits=homepage_service.recent_edits(),
        overdue=homepage_service.overdue_upkeep(clock.today()),
        form=ChangeDecisionForm(formdata=None),
    )


@bp.post("/staff/changes/<id:change_id>/<decision>")
@staff_required
def decide_change(change_id: int, decision: str):
    """[通过变更] or [退回变更]."""
    change = db.session.get(HomepageChange, change_id) or abort(404)
    form = ChangeDecisionForm()
    if decision not in ("accept", "return") or not form.validate_on_submit():
        abort(404)
    try:
        homepage_service.decide(
            change, current_user, decision == "accept", form.reason.data, form.seen_version, ip=client_ip()
        )
        commit_or_conflict()
    except Conflict:
        flash("该变更刚刚已被其他工作人员处理", "error")
    except services.ConsultRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        flash("已通过变更" if decision == "accept" else "已退回变更", "success")
    return redirect(url_for("consultations.staff_changes"))
