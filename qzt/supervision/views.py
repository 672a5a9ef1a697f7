"""Staff pages for supervising listed institutions (Art. 12, 15, 17)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from qzt.auth.permissions import roles_required, staff_required
from qzt.core import audit, clock, files
from qzt.core.http import client_ip, external_url
from qzt.documents import pdf_response
from qzt.extensions import db
from qzt.models import (
    Assessment,
    Complaint,
    Consultation,
    Institution,
    ListingState,
    Rating,
    Role,
    SpotCheck,
    StoredFile,
)
from qzt.rules.complaints import REFERRAL_KINDS, VERIFY_WORKING_DAYS
from qzt.rules.sanctions import EXPULSION_CAUSES
from qzt.rules.supervision import CREDIT_KINDS, RECHECK_RESULTS, SPOT_CHECK_RESULTS
from qzt.rules.uploads import UploadRejected
from qzt.supervision import bp, checks, complaints, letters, ratings, services
from qzt.supervision.forms import (
    MAX_FILES,
    ComplaintForm,
    CreditForm,
    NoteForm,
    RatingForm,
    ReasonForm,
    RecheckForm,
    ReferralForm,
    SanctionForm,
    SpotCheckForm,
    VerdictForm,
    VerifyForm,
)

# The timeline in words.
TIMELINE = {
    "hide": "隐藏主页",
    "unhide": "恢复显示",
    "expel": "清退",
    "remove": "清理",
    "hide_one_month_rule": "第十七条自动隐藏",
    "show_one_month_rule": "第十七条自动恢复显示",
    "edit_homepage": "修改机构主页",
    "complaint_filed": "收到投诉",
    "complaint_verified": "投诉核查",
    "complaint_serious": "投诉情节较重，提请清退",
    "complaint_referred": "投诉移交",
    "spot_check": "抽查",
    "spot_check_recheck": "抽查复查",
    "credit_record": "记录信用信息",
    "assessment_expulsion_proposed": "考核不合格，提请清退",
    "annual_summary": "上传年度服务总结",
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
    """One institution: its facts, the actions this user may take, its records, its timeline.
    ?complaint=N fills the expulsion form from a complaint proposed as 情节较重, ?assessment=N from a
    failed assessment."""
    inst = db.session.get(Institution, institution_id) or abort(404)
    form = SanctionForm(formdata=None)
    proposed = db.session.get(Complaint, request.args.get("complaint", type=int) or 0)
    if proposed is not None and proposed.institution_id == inst.id and proposed.serious:
        form.cause.data = "complaint_serious"
        form.evidence.data = external_url("supervision.complaint", complaint_id=proposed.id)
    failed = db.session.get(Assessment, request.args.get("assessment", type=int) or 0)
    if failed is not None and failed.institution_id == inst.id and failed.expulsion_proposed_at:
        form.cause.data = "failed_assessment"
        sheet = external_url("assessments.staff_sheet", assessment_id=failed.id)
        form.evidence.data = f"第{failed.cycle_number}个考核周期考核得分{failed.score}分，不合格：{sheet}"
    return _render(inst, form)


def _render(inst: Institution, form: SanctionForm, status: int = 200, **forms):
    spot_checks = checks.spot_checks_of(inst)
    return render_template(
        "supervision/institution.html",
        inst=inst,
        form=form,
        timeline=audit.history(inst),
        timeline_words=TIMELINE,
        causes=EXPULSION_CAUSES,
        complaints=complaints.of_institution(inst),
        spot_checks=spot_checks,
        credit_records=checks.credit_records_of(inst),
        check_files=checks.files_by_id([i for c in spot_checks for i in c.file_ids or []]),
        notices=letters.of_institution(inst),
        spot_form=forms.get("spot_check") or SpotCheckForm(formdata=None),
        recheck_form=forms.get("recheck") or RecheckForm(formdata=None),
        credit_form=forms.get("credit") or CreditForm(formdata=None),
        results=SPOT_CHECK_RESULTS,
        rechecks=RECHECK_RESULTS,
        credit_kinds=CREDIT_KINDS,
        state_labels={s.value: s.label for s in ListingState},
        lapsed=services.all_certificates_expired(inst, clock.today()),
        today=clock.today(),
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
            letter = services.expel(
                inst, current_user, form.cause.data, form.reason.data, form.evidence.data, ip=client_ip()
            )
            done = f"已清退该机构，清退通知已发出（编号{letter.code}）"
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


# --- complaints (Art. 15, 17; Annex 2 item 2) ---


@bp.route("/institutions/<id:institution_id>/complaint", methods=["GET", "POST"])
@login_required
def complain(institution_id: int):
    """[投诉]: what happened, against whom, evidence, whether we may call."""
    if current_user.is_staff:
        abort(403)
    institution = db.session.get(Institution, institution_id)
    if institution is None or not complaints.may_complain(current_user, institution):
        abort(404)
    form = ComplaintForm()
    form.agent.choices = [SelectChoice("", "机构本身（不针对具体客服）")] + [
        SelectChoice(str(a.id), f"客服：{a.name}") for a in institution.agents
    ]
    kept = _own_files(form.kept_ids()) if form.is_submitted() else []
    problems = []
    if form.validate_on_submit():
        kept, problems = _accept_uploads("evidence", "complaint", kept)
        db.session.commit()  # accepted uploads are kept whatever else is wrong
        if not problems:
            try:
                complaint = complaints.file(
                    institution,
                    current_user,
                    agent_id=form.agent_id(),
                    body=form.body.data,
                    may_contact=form.may_contact.data,
                    evidence=kept,
                    today=clock.today(),
                    ip=client_ip(),
                )
            except complaints.ComplaintRefused as refused:
                db.session.rollback()
                problems.append(str(refused))
            else:
                db.session.commit()
                flash("投诉已提交，平台运维机构将在规定期限内核查，结果会通知您", "success")
                return redirect(url_for("supervision.complaint", complaint_id=complaint.id))
    form.kept.data = ",".join(str(f.id) for f in kept)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "supervision/complain.html",
        institution=institution,
        form=form,
        kept=kept,
        problems=problems,
        verify_days=VERIFY_WORKING_DAYS,
    ), status


def _own_files(ids: list[int]) -> list[StoredFile]:
    if not ids:
        return []
    rows = db.session.scalars(
        db.select(StoredFile).where(StoredFile.id.in_(ids), StoredFile.owner_id == current_user.id)
    )
    return list(rows)


def _accept_uploads(
    field: str, purpose: str, kept: list[StoredFile] | None = None
) -> tuple[list[StoredFile], list[str]]:
    """Store each file chosen in `field` that passes the upload checks, up to MAX_FILES with those `kept`
    already; say what was wrong with the others."""
    kept, problems = list(kept or []), []
    for upload in request.files.getlist(field):
        if not upload.filename:
            continue
        if len(kept) >= MAX_FILES:
            problems.append(f"最多{MAX_FILES}个文件，“{upload.filename[:60]}”未上传")
            continue
        try:
            kept.append(files.accept(current_user, purpose, upload))
        except UploadRejected as rejected:
            problems.append(f"“{upload.filename[:60]}”：{rejected}")
    return kept, problems


@bp.get("/complaints")
@login_required
def my_complaints():
    """我的投诉 and where each stands."""
    if current_user.is_staff:
        return redirect(url_for("supervision.staff_complaints"))
    return render_template("supervision/my_complaints.html", rows=complaints.of_user(current_user))


def _complaint_or_404(complaint_id: int) -> Complaint:
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or not (current_user.is_staff or complaint.complainant_id == current_user.id):
        abort(404)
    return complaint


@bp.get("/complaints/<id:complaint_id>")
@login_required
def complaint(complaint_id: int):
    """One complaint: its progress for the complainant; the check, 情节较重 and 移交 for staff."""
    return _render_complaint(_complaint_or_404(complaint_id))


def _render_complaint(complaint: Complaint, status: int = 200, **forms):
    return render_template(
        "supervision/staff_complaint.html" if current_user.is_staff else "supervision/complaint.html",
        complaint=complaint,
        evidence=complaints.evidence_files(complaint),
        today=clock.today(),
        verify_form=forms.get("verify") or VerifyForm(formdata=None),
        reason_form=forms.get("reason") or ReasonForm(formdata=None),
        referral_form=forms.get("referral") or ReferralForm(formdata=None),
        referral_kinds=REFERRAL_KINDS,
    ), status


def _staff_step(complaint: Complaint, name: str, form, change, done: str):
    if not form.validate_on_submit():
        abort(400)
    try:
        change()
    except complaints.ComplaintRefused as refused:
        db.session.rollback()
        form.form_errors.append(str(refused))
        return _render_complaint(complaint, 422, **{name: form})
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("supervision.complaint", complaint_id=complaint.id))


@bp.post("/staff/complaints/<id:complaint_id>/verify")
@roles_required(Role.OPERATOR, Role.AUTHORITY)
def verify_complaint(complaint_id: int):
    """[属实] or [不属实]."""
    complaint = _complaint_or_404(complaint_id)
    form = VerifyForm()
    if form.result.data not in ("substantiated", "unfounded"):
        abort(400)
    return _staff_step(
        complaint,
        "verify",
        form,
        lambda: complaints.verify(
            complaint, current_user, form.result.data == "substantiated", form.note.data, ip=client_ip()
        ),
        "核查结果已记录，投诉人已收到通知",
    )


@bp.post("/staff/complaints/<id:complaint_id>/serious")
@roles_required(Role.OPERATOR, Role.AUTHORITY)
def propose_expulsion(complaint_id: int):
    """[情节较重，提请清退]."""
    complaint = _complaint_or_404(complaint_id)
    form = ReasonForm()
    return _staff_step(
        complaint,
        "reason",
        form,
        lambda: complaints.propose_expulsion(complaint, current_user, form.reason.data, ip=client_ip()),
        "已提请管理单位清退",
    )


@bp.post("/staff/complaints/<id:complaint_id>/referral")
@roles_required(Role.OPERATOR, Role.AUTHORITY)
def refer_complaint(complaint_id: int):
    """[记录移交]."""
    complaint = _complaint_or_404(complaint_id)
    form = ReferralForm()
    return _staff_step(
        complaint,
        "referral",
        form,
        lambda: complaints.refer(
            complaint, current_user, form.kind.data, form.body.data, form.on.data, ip=client_ip()
        ),
        "移交情况已记录",
    )


@bp.get("/staff/complaints")
@staff_required
def staff_complaints():
    """投诉处理: pending first, overdue first."""
    return render_template(
        "supervision/complaints.html", rows=complaints.queue(clock.today()), today=clock.today()
    )


# --- spot checks and credit records (Art. 15, 5; Annex 2 item 1) ---


def _institution_step(inst: Institution, name: str, form, change, done: str):
    if not form.validate_on_submit():
        abort(400)
    try:
        change()
    except checks.CheckRefused as refused:
        db.session.rollback()
        form.form_errors.append(str(refused))
        return _render(inst, SanctionForm(formdata=None), 422, **{name: form})
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("supervision.institution", institution_id=inst.id) + f"#{name}")


@bp.post("/staff/institutions/<id:institution_id>/spot-checks")
@roles_required(Role.OPERATOR, Role.AUTHORITY)
def add_spot_check(institution_id: int):
    """[记录抽查]."""
    inst = db.session.get(Institution, institution_id) or abort(404)
    form = SpotCheckForm()

    def change():
        stored, problems = _accept_uploads("files", "spot_check")
        if problems:
            raise checks.CheckRefused("；".join(problems))
        checks.record_spot_check(
            inst,
            current_user,
            checked_on=form.checked_on.data,
            subject=form.subject.data,
            finding=form.finding.data,
            result=form.result.data,
            rectify_by=form.rectify_by.data,
            files=stored,
            ip=client_ip(),
        )

    return _institution_step(inst, "spot_check", form, change, "抽查记录已保存")


@bp.post("/staff/spot-checks/<id:check_id>/recheck")
@roles_required(Role.OPERATOR, Role.AUTHORITY)
def recheck(check_id: int):
    """[记录复查]."""
    check = db.session.get(SpotCheck, check_id) or abort(404)
    form = RecheckForm()
    return _institution_step(
        check.institution,
        "recheck",
        form,
        lambda: checks.recheck(check, current_user, form.outcome.data, form.note.data, ip=client_ip()),
        "复查结果已记录",
    )


@bp.post("/staff/institutions/<id:institution_id>/credit-records")
@roles_required(Role.OPERATOR, Role.AUTHORITY)
def add_credit_record(institution_id: int):
    """[记录信用信息]."""
    inst = db.session.get(Institution, institution_id) or abort(404)
    form = CreditForm()
    return _institution_step(
        inst,
        "credit",
        form,
        lambda: checks.record_credit(
            inst,
            current_user,
            kind=form.kind.data,
            recorded_on=form.recorded_on.data,
            source=form.source.data,
            description=form.description.data,
            ip=client_ip(),
        ),
        "信用信息已记录",
    )


@bp.get("/staff/spot-checks")
@staff_required
def spot_checks():
    """抽查整改: the 限期整改 awaiting a re-check, the overdue first; then the latest checks."""
    return render_template(
        "supervision/spot_checks.html",
        rows=checks.recent(),
        today=clock.today(),
        results=SPOT_CHECK_RESULTS,
        rechecks=RECHECK_RESULTS,
    )


# --- the 清退通知 letter ---


@bp.get("/notices/<notice_code>")
def notice(notice_code: str):
    """Anyone holding the code sees whether the expulsion notice is genuine."""
    letter = letters.by_code(notice_code) or abort(404)
    return render_template(
        "supervision/notice.html",
        notice=letter,
        cause=EXPULSION_CAUSES.get(letter.cause, letter.cause),
        may_download=letters.can_download(current_user, letter),
    )


@bp.get("/notices/<notice_code>.pdf")
def notice_pdf(notice_code: str):
    """The 清退通知 as a PDF: for the institution's account and staff; 404 for anyone else."""
    letter = letters.by_code(notice_code)
    if letter is None or not letters.can_download(current_user, letter):
        abort(404)
    audit.downloaded(letter, "清退通知书PDF")
    name = f"notice-{letter.code}.pdf"
    return pdf_response(letters.notice_pdf(letter), name, f"清退通知书-{letter.code}.pdf")
