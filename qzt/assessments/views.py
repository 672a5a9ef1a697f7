"""Assessment pages: the staff's list and sheet, the review and decision, the printed sheet, the public
check, and the institution's own results with its self-summary."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from qzt.assessments import bp, overview, printing, services, sheet
from qzt.assessments.forms import FilterForm, ReturnForm, decisions
from qzt.auth.permissions import roles_required, staff_required
from qzt.core import audit, charts, clock, files, jobs, tables
from qzt.core.forms import EmptyForm
from qzt.core.http import client_ip, public_base
from qzt.documents import pdf_response
from qzt.extensions import db
from qzt.models import Assessment, AssessmentState, Role
from qzt.rules import assessment as rules
from qzt.rules.uploads import UploadRejected

EVIDENCE_LINKS = {
    "credit": lambda ref, a: url_for("supervision.institution", institution_id=a.institution_id) + "#credit",
    "complaint": lambda ref, a: url_for("supervision.complaint", complaint_id=ref["id"]),
    "homepage": lambda ref, a: url_for("directory.institution", institution_id=a.institution_id),
    "case": lambda ref, a: url_for(
        "consultations.staff_cases",
        institution=a.institution_name,
        start=a.cycle_start.isoformat(),
        end=a.last_day.isoformat(),
    ),
    "agent": lambda ref, a: url_for("directory.institution", institution_id=a.institution_id),
    "timeline": lambda ref, a: (
        url_for("supervision.institution", institution_id=a.institution_id) + "#timeline"
    ),
    "consultation": lambda ref, a: url_for("consultations.thread", consultation_id=ref["id"]),
    "rating": lambda ref, a: url_for("supervision.follow_ups"),
}


def _assessment_or_404(assessment_id: int) -> Assessment:
    return db.session.get(Assessment, assessment_id) or abort(404)


def _filters(form: FilterForm) -> services.Filters:
    def number(raw: str | None) -> int | None:
        return int(raw) if raw and raw.isdigit() and len(raw) < 5 else None

    state = form.state.data if form.state.data in {s.value for s in AssessmentState} else None
    return services.Filters(
        year=number(form.year.data),
        number=number(form.number.data),
        state=AssessmentState(state) if state else None,
    )


@bp.get("/staff/assessments")
@staff_required
def staff_list():
    """年度考核: by the year the cycle ended, the cycle, the state."""
    form = FilterForm(request.args)
    filters = _filters(form)
    number = request.args.get("page", type=int) or 1
    listing = services.page(filters, max(1, min(number, 10_000)))
    rows = listing.items
    summary = overview.overview(filters)
    return render_template(
        "assessments/staff_list.html",
        form=form,
        rows=rows,
        listing=listing,
        page_args={k: v for k, v in request.args.items() if k in ("year", "number", "state")},
        total=listing.total,
        year_choices=[(str(y), f"{y}年") for y in services.years()],
        number_choices=[(str(n), f"第{n}周期") for n in range(1, services.max_cycle() + 1)],
        state_choices=[(s.value, s.label) for s in AssessmentState],
        scores={a.id: a.score if a.score is not None else services.current_score(a) for a in rows},
        print_form=EmptyForm(formdata=None),
        summary=summary,
        scope=_scope(filters),
        figures=[
            (summary.bands, charts.of_table(summary.bands, (1,))),
            (summary.items, charts.of_table(summary.items, (2,), horizontal=True)),
        ],
    )


@bp.get("/staff/assessments/overview.xlsx")
@staff_required
def overview_xlsx():
    """The overview's tables (results, scores, items) for the list's year and cycle."""
    filters = _filters(FilterForm(request.args))
    summary = overview.overview(filters)
    heading = _scope(filters)
    data = tables.xlsx([overview.results(summary), summary.bands, summary.items], heading=heading)
    return tables.download(data, tables.XLSX, "assessment-overview.xlsx", f"考核概况-{heading}.xlsx")


def _scope(filters: services.Filters) -> str:
    """The overview's scope in words: 2026年 第1周期, or 全部."""
    words = [f"{filters.year}年" if filters.year else "", f"第{filters.number}周期" if filters.number else ""]
    return " ".join(w for w in words if w) or "全部"


@bp.get("/staff/assessments/<id:assessment_id>")
@staff_required
def staff_sheet(assessment_id: int):
    assessment = _assessment_or_404(assessment_id)
    return _render_sheet(assessment)


def _render_sheet(
    assessment: Assessment, problems: dict | None = None, chosen=None, return_form=None, status=200
):
    chosen = chosen or {
        i.number: (i.decided if i.decided is not None else (None if i.judgement else i.computed), i.reason)
        for i in assessment.items
    }
    return render_template(
        "assessments/staff_sheet.html",
        assessment=assessment,
        items={i.number: i for i in assessment.items},
        sheet_items=rules.ITEMS,
        chosen=chosen,
        problems=problems or {},
        score=services.current_score(assessment),
        undecided=services.undecided(assessment),
        summary=services.summary_of(assessment),
        link=lambda ref: (
            EVIDENCE_LINKS[ref["kind"]](ref, assessment) if ref.get("kind") in EVIDENCE_LINKS else None
        ),
        form=EmptyForm(formdata=None),
        return_form=return_form or ReturnForm(formdata=None),
    ), status


@bp.post("/staff/assessments/<id:assessment_id>/review")
@roles_required(Role.OPERATOR)
def review(assessment_id: int):
    """[保存] or [提交审定] the operator's [是]/[否] per item."""
    assessment = _assessment_or_404(assessment_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    given = decisions(request.form)
    submit = request.form.get("action") == "submit"
    try:
        problems = services.review(assessment, current_user, given, submit, ip=client_ip())
    except services.AssessmentRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("assessments.staff_sheet", assessment_id=assessment.id))
    if problems:
        db.session.rollback()
        chosen = {d.number: (d.deducts, d.reason) for d in given}
        flash(f"有{len(problems)}项需要处理，见下方标红的项目", "error")
        return _render_sheet(db.session.get(Assessment, assessment_id), problems, chosen, status=422)
    db.session.commit()
    flash("已提交管理单位审定" if submit else "已保存", "success")
    return redirect(url_for("assessments.staff_sheet", assessment_id=assessment.id))


@bp.post("/staff/assessments/<id:assessment_id>/confirm")
@roles_required(Role.AUTHORITY)
def confirm(assessment_id: int):
    """[确认考核结果]."""
    assessment = _assessment_or_404(assessment_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.confirm(assessment, current_user, ip=client_ip())
    except services.AssessmentRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("assessments.staff_sheet", assessment_id=assessment_id))
    db.session.commit()
    flash(f"考核结果已确认：{assessment.score}分，{rules.result_label(assessment.score)}", "success")
    return redirect(url_for("assessments.staff_sheet", assessment_id=assessment.id))


@bp.post("/staff/assessments/<id:assessment_id>/return")
@roles_required(Role.AUTHORITY)
def send_back(assessment_id: int):
    """[退回修改]."""
    assessment = _assessment_or_404(assessment_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.send_back(assessment, current_user, form.note.data, ip=client_ip())
    except services.AssessmentRefused as refused:
        db.session.rollback()
        form.note.errors = [str(refused)]
        return _render_sheet(db.session.get(Assessment, assessment_id), return_form=form, status=422)
    db.session.commit()
    flash("已退回运维机构修改", "success")
    return redirect(url_for("assessments.staff_sheet", assessment_id=assessment.id))


@bp.get("/staff/assessments/<id:assessment_id>.pdf")
@staff_required
def staff_pdf(assessment_id: int):
    """[下载考核评分表PDF]."""
    assessment = _assessment_or_404(assessment_id)
    return _pdf(assessment)


def _pdf(assessment: Assessment):
    audit.downloaded(assessment, "考核评分表PDF")
    name = f"考核评分表-{assessment.institution_name}-第{assessment.cycle_number}周期.pdf"
    return pdf_response(sheet.sheet_pdf(assessment), f"assessment-{assessment.id}.pdf", name)


@bp.get("/staff/assessments/blank.pdf")
@staff_required
def blank_pdf():
    """[下载空白评分表]: the form for paper use, nothing ticked."""
    return pdf_response(sheet.sheet_pdf(None), "assessment-blank.pdf", "考核评分表-空白.pdf")


@bp.get("/assessments/verify/<assessment_code>")
def verify(assessment_code: str):
    """The public check behind a printed sheet's QR code: institution, cycle, score, result."""
    assessment = services.by_code(assessment_code) if len(assessment_code) <= 32 else None
    if assessment is None:
        abort(404)
    return render_template("assessments/verify.html", assessment=assessment)


# --- the institution's own ---


def _own_institution():
    inst = services.owned_institution(current_user)
    if inst is None:
        abort(404)
    return inst


@bp.get("/workbench/assessments")
@roles_required(Role.INSTITUTION)
def workbench():
    """年度考核: confirmed results and the 年度服务总结 of each cycle."""
    inst = _own_institution()
    return _render_workbench(inst)


def _render_workbench(inst, errors: dict | None = None, status: int = 200):
    today = clock.today()
    confirmed = [a for a in services.of_institution(inst) if a.state == AssessmentState.CONFIRMED]
    current = rules.current_cycle(inst.opened_on, today) if inst.opened_on else None
    return render_template(
        "assessments/workbench.html",
        inst=inst,
        assessments=confirmed,
        items={a.id: {i.number: i for i in a.items} for a in confirmed},
        sheet_items=rules.ITEMS,
        windows=services.summary_windows(inst, today),
        current=current,
        first=rules.cycle(inst.opened_on, 1) if inst.opened_on else None,
        today=today,
        errors=errors or {},
        form=EmptyForm(formdata=None),
    ), status


@bp.post("/workbench/assessments/summary/<int:cycle_number>")
@roles_required(Role.INSTITUTION)
def upload_summary(cycle_number: int):
    """[上传年度服务总结]."""
    inst = _own_institution()
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = f"summary-{cycle_number}"
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        return _render_workbench(inst, {name: "请选择年度服务总结文件（PDF、Word转成的PDF或图片）"}, 422)
    try:
        stored = files.accept(current_user, "annual_summary", upload)
        services.upload_summary(inst, current_user, cycle_number, stored, clock.today())
    except (UploadRejected, services.AssessmentRefused) as refused:
        db.session.rollback()
        return _render_workbench(inst, {name: f"“{upload.filename[:60]}”：{refused}"}, 422)
    db.session.commit()
    flash("年度服务总结已上传", "success")
    return redirect(url_for("assessments.workbench"))


@bp.get("/workbench/assessments/<id:assessment_id>.pdf")
@roles_required(Role.INSTITUTION)
def own_pdf(assessment_id: int):
    """The institution's own confirmed sheet; 404 for anything else."""
    inst = _own_institution()
    assessment = db.session.get(Assessment, assessment_id)
    if (
        assessment is None
        or assessment.institution_id != inst.id
        or assessment.state != AssessmentState.CONFIRMED
    ):
        abort(404)
    return _pdf(assessment)


# --- 批量打印 ---


@bp.post("/staff/assessments/print")
@staff_required
def print_batch():
    """[批量打印]: every sheet the list's filters select, as one PDF built in the background."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    job = printing.request_batch(current_user, _filters(FilterForm(request.form)), public_base())
    if job is None:
        flash("没有符合筛选条件的评分表", "error")
        return redirect(url_for("assessments.staff_list"))
    db.session.commit()
    return redirect(url_for("assessments.print_job", job_id=job.id))


def _job_or_404(job_id: int):
    return jobs.of_user(job_id, current_user) or abort(404)


@bp.get("/staff/assessments/prints/<id:job_id>")
@staff_required
def print_job(job_id: int):
    """The batch's progress; htmx polls the bar until the PDF is ready (a reload finds it again)."""
    job = _job_or_404(job_id)
    template = (
        "assessments/_print_progress.html"
        if request.headers.get("HX-Request")
        else "assessments/print_job.html"
    )
    return render_template(template, job=job)


@bp.get("/staff/assessments/prints/<id:job_id>.pdf")
@staff_required
def print_job_pdf(job_id: int):
    job = _job_or_404(job_id)
    if job.file is None:
        abort(404)
    audit.downloaded(job.file, "考核评分表批量打印PDF")
    return pdf_response(files.read(job.file), f"assessments-{job.id}.pdf", job.file.filename)
