"""The annual assessment (Art. 16–17, Annex 2): opening, the prefilled items, review, decision, print."""

import io
import re
import subprocess
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from onboarding_helpers import PDF
from shared_fixtures import csrf

from qzt.assessments import records
from qzt.assessments import services as assessments
from qzt.extensions import db
from qzt.models import (
    AnnualSummary,
    Assessment,
    AssessmentState,
    CaseReport,
    CaseState,
    Complaint,
    ComplaintState,
    Consultation,
    CreditRecord,
    DealState,
    FollowUpState,
    Institution,
    ListingState,
    Notification,
    Rating,
    Role,
)
from qzt.rules.assessment import cycle
from qzt.rules.calendar import BEIJING, WorkCalendar

OPENED = date(2025, 1, 6)  # cycle 1: 2025-07-06 to 2026-07-05
CYCLE1 = cycle(OPENED, 1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def consult(inst, client, asked, replied=None, deal_on=None, topic="家电安全检测") -> Consultation:
    asked = at(asked)
    calendar = WorkCalendar()
    q = Consultation(
        institution_id=inst.id,
        client_id=client.id,
        topic=topic,
        asked_at=asked,
        due_at=calendar.reply_deadline(asked),
        first_reply_at=at(replied) if replied else None,
        last_message_at=asked,
    )
    if deal_on:
        q.deal_state, q.deal_confirmed_at = DealState.CONFIRMED, at(deal_on)
    db.session.add(q)
    db.session.flush()
    return q


def report_case(inst, q, submitted):
    db.session.add(
        CaseReport(
            consultation_id=q.id,
            institution_id=inst.id,
            asked_at=q.asked_at,
            client_name="佛山市某电器有限公司",
            client_contact="138****0000",
            topic=q.topic,
            state=CaseState.SUBMITTED,
            submitted_at=at(submitted),
        )
    )


def complaint(inst, user, filed, state=ComplaintState.SUBSTANTIATED):
    db.session.add(
        Complaint(
            institution_id=inst.id,
            complainant_id=user.id,
            body="客服答应回电却一直没有联系。",
            due_on=date(2030, 1, 1),
            state=state,
            created_at=at(filed),
        )
    )


@pytest.fixture
def people(make_user):
    return {
        "owner": make_user(Role.INSTITUTION, phone="13700000002", name="机构账号"),
        "client": make_user(Role.ENTERPRISE, phone="13700000001", name="企业用户"),
        "operator": make_user(Role.OPERATOR, phone="13700000004", name="运维小王"),
        "authority": make_user(Role.AUTHORITY, phone="13700000005", name="质量发展科"),
    }


@pytest.fixture
def year_of_records(make_institution, people):
    """An 检验检测 institution admitted 2025-01-06 with a year of records in cycle 1 (2025-07-06 to
    2026-07-05): 4 substantiated complaints, a penalty, an expired certificate, a short introduction,
    10 cases, 20 valid orders, one day-off question answered after 7 hours and an unsatisfied follow-up.
    Deducted: items 1 (10), 2 (20), 3 (10), 4 (10), 8 (10), 10 (10): 30 points."""
    inst = make_institution(
        "佛山市年度考核检测有限公司",
        introduction="家电检测",
        services=[
            ("inspection", "家电安全检测", "GB 4706系列标准检测", True),
            ("inspection", "能效检测", "能效标识备案检测", True),
        ],
        qualifications=[("CMA资质认定证书", date(2026, 6, 30))],
        agents=[("李客服", "13812345678")],
        opened_on=OPENED,
    )
    inst.owner_id = people["owner"].id
    client = people["client"]
    for n in range(20):  # Mondays to Fridays in daytime, answered within the hour; each a valid order
        day = date(2025, 9, 1) + timedelta(weeks=n)
        q = consult(inst, client, f"{day}T10:00", f"{day}T10:40", deal_on=f"{day}T16:00")
        if n < 10:
            report_case(inst, q, f"{day}T17:00")
    consult(inst, client, "2026-03-07T10:00", "2026-03-07T17:00")  # a Saturday: 7 hours
    consult(inst, client, "2026-07-06T10:00", "2026-07-06T15:00", deal_on="2026-07-06T16:00")  # cycle 2
    for filed in ("2025-08-01T09:00", "2025-10-01T09:00", "2026-01-05T09:00", "2026-07-05T23:00"):
        complaint(inst, client, filed)
    complaint(inst, client, "2026-07-06T00:30")  # the next cycle's
    complaint(inst, client, "2026-02-01T09:00", ComplaintState.UNFOUNDED)
    db.session.add(
        CreditRecord(
            institution_id=inst.id,
            kind="penalty",
            recorded_on=date(2024, 5, 1),
            source="佛市监罚〔2024〕88号",
            recorded_by_id=people["authority"].id,
        )
    )
    unhappy = consult(inst, client, "2026-04-01T10:00", "2026-04-01T10:30")
    db.session.add(
        Rating(
            consultation_id=unhappy.id,
            institution_id=inst.id,
            stars=1,
            follow_up=FollowUpState.UNSATISFIED,
            created_at=at("2026-04-02T10:00"),
        )
    )
    db.session.commit()
    return inst


def prefilled(inst) -> dict:
    return {p.number: p for p in records.prefill(inst, CYCLE1)}


def test_annex2_items_prefilled_from_the_cycles_records(app, year_of_records):
    items = prefilled(year_of_records)
    assert {n for n, p in items.items() if p.deducts} == {1, 2, 3, 4, 8, 10}
    assert "佛市监罚〔2024〕88号" in items[1].evidence[0]["text"]
    assert items[2].summary == "周期内查实投诉4件"  # the 5th is the next cycle's, the 6th unfounded
    assert items[3].summary == "机构简介4字，不足20字"
    assert items[4].summary == "周期末无在有效期内的资质证书"
    assert items[5].judgement and not items[5].deducts
    assert items[6].summary == "周期内报送案例10个（要求不少于10个）"
    assert items[7].summary == "客服人员1名"
    assert "非工作日咨询超过6小时回复1条" in items[8].summary
    assert items[9].summary == "有效订单20单（第1年要求不少于20单）"
    assert items[10].summary == "差评跟进后不满意1条"


def test_annex2_item1_credit_records_of_three_years_up_to_the_cycles_last_day(app, year_of_records, people):
    for on in ("2023-07-05", "2023-07-06", "2026-07-06"):
        db.session.add(
            CreditRecord(
                institution_id=year_of_records.id,
                kind="abnormal_list",
                recorded_on=date.fromisoformat(on),
                source=on,
                recorded_by_id=people["authority"].id,
            )
        )
    db.session.commit()
    counted = [r.source for r in records.credit_records(year_of_records.id, CYCLE1.last_day)]
    assert counted == ["2023-07-06", "佛市监罚〔2024〕88号"]


def test_annex2_item2_three_substantiated_complaints_do_not_deduct(app, year_of_records):
    first = db.session.scalar(db.select(Complaint).order_by(Complaint.id))
    first.state = ComplaintState.UNFOUNDED
    db.session.commit()
    assert not prefilled(year_of_records)[2].deducts


def test_annex2_item4_not_needed_for_categories_without_a_certificate(app, make_institution):
    inst = make_institution(
        "佛山市品牌培育咨询有限公司",
        services=[
            ("branding", "品牌培育", "品牌策划", True),
            ("quality-management", "质量管理", "体系", True),
        ],
        opened_on=OPENED,
    )
    assert not prefilled(inst)[4].deducts


def test_annex2_item6_nine_cases_deduct(app, year_of_records):
    last = db.session.scalar(db.select(CaseReport).order_by(CaseReport.id.desc()))
    last.submitted_at = at("2026-07-06T09:00")  # reported in the next cycle
    db.session.commit()
    assert prefilled(year_of_records)[6].deducts


def test_annex2_item7_no_agent_deducts(app, make_institution):
    inst = make_institution("佛山市无客服检测所", opened_on=OPENED)
    assert prefilled(inst)[7].summary == "考核时未配置客服人员" and prefilled(inst)[7].deducts


def test_art14_item8_working_day_average_counts_only_working_day_daytime(app, make_institution, people):
    inst = make_institution("佛山市慢回复检测所", opened_on=OPENED)
    # Friday 17:00, answered Monday 10:00: 1 + 2 working-day daytime hours = 3 hours.
    consult(inst, people["client"], "2026-03-06T17:00", "2026-03-09T10:00")
    consult(inst, people["client"], "2026-03-10T09:00", "2026-03-10T09:30")  # 0.5 hours
    db.session.commit()
    assert not prefilled(inst)[8].deducts  # average 1.75 hours
    consult(inst, people["client"], "2026-03-11T09:00", "2026-03-11T12:00")  # 3 hours
    db.session.commit()
    item = prefilled(inst)[8]
    assert item.deducts and "平均响应2.2小时" in item.summary


def test_art14_item8_an_unanswered_question_counts_until_the_cycle_ends(app, make_institution, people):
    inst = make_institution("佛山市未回复检测所", opened_on=OPENED)
    consult(inst, people["client"], "2026-07-02T09:00")  # Thursday: 19 working hours by the end
    db.session.commit()
    assert prefilled(inst)[8].deducts


def test_annex2_note2_item9_second_cycle_needs_30_orders(app, year_of_records):
    second = cycle(OPENED, 2)
    item = next(p for p in records.prefill(year_of_records, second) if p.number == 9)
    assert item.summary == "有效订单1单（第2年要求不少于30单）" and item.deducts


def test_art16_open_is_idempotent_and_skips_the_adaptation_period(
    app, runner, year_of_records, make_institution
):
    make_institution("佛山市新入驻检测所", opened_on=date(2026, 2, 1))  # cycle 1 ends 2027-08-01
    make_institution("佛山市已退出检测所", opened_on=OPENED, state=ListingState.WITHDRAWN)
    gone = db.session.scalar(db.select(Institution).where(Institution.name == "佛山市已退出检测所"))
    gone.closed_at = at("2026-05-01T10:00")  # left before cycle 1 ended
    db.session.commit()
    assert (
        "新生成考核评分表0份"
        in runner.invoke(args=["qzt", "assessments", "open", "--on", "2026-07-05"]).output
    )
    result = runner.invoke(args=["qzt", "assessments", "open", "--on", "2026-07-06"])
    assert "截至2026-07-06：新生成考核评分表1份" in result.output
    assert (
        "新生成考核评分表0份"
        in runner.invoke(args=["qzt", "assessments", "open", "--on", "2026-07-06"]).output
    )
    (opened,) = db.session.scalars(db.select(Assessment)).all()
    assert (opened.institution_id, opened.cycle_number, opened.state) == (
        year_of_records.id,
        1,
        AssessmentState.REVIEWING,
    )
    assert assessments.current_score(opened) == 30
    operators = db.session.scalars(db.select(Notification).where(Notification.kind == "assessments_opened"))
    assert [n.user.phone for n in operators] == ["13700000004"]


def test_art16_open_reads_the_platform_clock(app, runner, year_of_records):
    app.config["QZT_CLOCK"] = "2027-07-06T08:00:00+08:00"
    assert "截至2027-07-06：新生成考核评分表2份" in runner.invoke(args=["qzt", "assessments", "open"]).output


def test_open_rejects_a_malformed_day(app, runner):
    result = runner.invoke(args=["qzt", "assessments", "open", "--on", "2026-02-30"])
    assert result.exit_code == 1 and "日期格式不对" in result.output


# --- review, decision, result ---


def post(client, path, **data):
    return client.post(path, data={**data, "csrf_token": csrf(client, "/privacy")})


def review_form(assessment, **overrides) -> dict:
    """Every item as prefilled ([是] where it deducts), with `item_N=("no", reason)` overrides."""
    form = {}
    for item in assessment.items:
        choice, reason = overrides.get(f"item_{item.number}", ("yes" if item.computed else "no", ""))
        form[f"item-{item.number}"], form[f"reason-{item.number}"] = choice, reason
    return form


@pytest.fixture
def opened(app, year_of_records):
    (assessment,) = assessments.open_due(date(2026, 7, 6))
    db.session.commit()
    return assessment


def test_annex2_overriding_a_computed_item_needs_a_reason_and_keeps_both(app, opened, login_as):
    operator = login_as("operator")
    path = f"/staff/assessments/{opened.id}"
    form = review_form(opened, item_3=("no", ""))
    response = post(operator, f"{path}/review", action="submit", **form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "与系统预填结果不同，请写明理由" in page
    assert 'name="item-3" value="no" checked' in page  # what was chosen stays chosen
    db.session.expire_all()
    assert db.session.get(Assessment, opened.id).state == AssessmentState.REVIEWING

    form = review_form(opened, item_3=("no", "简介已于2026年6月补充完整，核实主页存档"))
    assert post(operator, f"{path}/review", action="submit", **form).headers["Location"] == path
    db.session.expire_all()
    item3 = db.session.get(Assessment, opened.id).items[2]
    assert (item3.computed, item3.decided, item3.overridden) == (True, False, True)
    assert item3.reason == "简介已于2026年6月补充完整，核实主页存档"
    assert db.session.get(Assessment, opened.id).state == AssessmentState.SUBMITTED
    assert "已改变预填结果" in operator.get(path).get_data(as_text=True)


def test_annex2_submitting_needs_every_judgement_made(app, opened, login_as):
    operator = login_as("operator")
    form = review_form(opened)
    del form["item-5"]  # item 5 is a judgement: never preselected
    assert "第5项须人工判断" in operator.get(f"/staff/assessments/{opened.id}").get_data(as_text=True)
    response = post(operator, f"/staff/assessments/{opened.id}/review", action="submit", **form)
    assert response.status_code == 422 and "请选择是否扣分" in response.get_data(as_text=True)
    saved = post(operator, f"/staff/assessments/{opened.id}/review", action="save", **form)
    assert saved.status_code == 302  # saving a partial review is fine


def test_art16_authority_confirms_a_failed_assessment_and_an_expulsion_is_proposed(app, opened, login_as):
    operator = login_as("operator")
    post(operator, f"/staff/assessments/{opened.id}/review", action="submit", **review_form(opened))
    authority = login_as("authority")
    path = f"/staff/assessments/{opened.id}"
    assert "确认考核结果" in authority.get(path).get_data(as_text=True)
    assert post(authority, f"{path}/confirm").status_code == 302
    db.session.expire_all()
    done = db.session.get(Assessment, opened.id)
    assert (done.state, done.score, done.passed) == (AssessmentState.CONFIRMED, 30, False)
    told = db.session.scalar(db.select(Notification).where(Notification.kind == "assessment_confirmed"))
    assert told.user.phone == "13700000002" and "考核得分30分，不合格" in told.body
    proposed = db.session.scalar(db.select(Notification).where(Notification.kind == "assessment_failed"))
    assert proposed.user.phone == "13700000005"
    expel_page = authority.get(f"/staff/institutions/{done.institution_id}?assessment={done.id}")
    text = expel_page.get_data(as_text=True)
    assert 'value="failed_assessment" selected' in text and "考核得分30分，不合格：http" in text
    # Confirmed is final: no more review.
    again = post(operator, f"{path}/review", action="save", **review_form(done))
    assert again.status_code == 302
    assert "该考核已提交审定，不能再修改" in operator.get(path).get_data(as_text=True)


def test_art16_authority_sends_back_with_a_reason(app, opened, login_as):
    operator = login_as("operator")
    path = f"/staff/assessments/{opened.id}"
    post(operator, f"{path}/review", action="submit", **review_form(opened))
    authority = login_as("authority")
    empty = post(authority, f"{path}/return", note="")
    assert empty.status_code == 422 and "请写明退回的理由" in empty.get_data(as_text=True)
    assert post(authority, f"{path}/return", note="第4项请核实证书是否已续期").status_code == 302
    db.session.expire_all()
    back = db.session.get(Assessment, opened.id)
    assert back.state == AssessmentState.REVIEWING and back.returned_note == "第4项请核实证书是否已续期"
    told = db.session.scalar(db.select(Notification).where(Notification.kind == "assessment_returned"))
    assert told.user.phone == "13700000004"
    assert "第4项请核实证书是否已续期" in operator.get(path).get_data(as_text=True)


def test_art16_the_institution_sees_only_confirmed_results(app, opened, login_as):
    institution = login_as("institution")
    assert "暂无已确认的考核结果" in institution.get("/workbench/assessments").get_data(as_text=True)
    assert institution.get(f"/workbench/assessments/{opened.id}.pdf").status_code == 404
    post(
        login_as("operator"), f"/staff/assessments/{opened.id}/review", action="submit", **review_form(opened)
    )
    post(login_as("authority"), f"/staff/assessments/{opened.id}/confirm")
    page = institution.get("/workbench/assessments").get_data(as_text=True)
    assert "30分" in page and "不合格" in page and "周期内查实投诉4件" in page
    pdf = institution.get(f"/workbench/assessments/{opened.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_art16_annual_summary_upload_window(app, year_of_records, login_as):
    institution = login_as("institution")
    app.config["QZT_CLOCK"] = "2026-06-05T10:00:00+08:00"  # before the cycle's last month
    assert "第1个考核周期的最后一个月开始后可以上传" in institution.get("/workbench/assessments").get_data(
        as_text=True
    )
    app.config["QZT_CLOCK"] = "2026-07-20T10:00:00+08:00"  # within 15 working days after the end
    path = "/workbench/assessments"
    form = {"csrf_token": csrf(institution, path)}
    bad = institution.post(
        f"{path}/summary/1",
        data={**form, "summary-1": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "总结.pdf")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "“总结.pdf”" in bad.get_data(as_text=True)
    good = institution.post(
        f"{path}/summary/1",
        data={**form, "summary-1": (io.BytesIO(PDF), "2025年度服务总结.pdf")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    assert db.session.scalar(db.select(AnnualSummary.cycle_number)) == 1
    app.config["QZT_CLOCK"] = "2026-07-27T10:00:00+08:00"  # the 16th working day
    late = institution.post(
        f"{path}/summary/1",
        data={"csrf_token": csrf(institution, path), "summary-1": (io.BytesIO(PDF), "补交.pdf")},
        content_type="multipart/form-data",
    )
    assert late.status_code == 422 and "不在该考核周期年度服务总结的上传时间内" in late.get_data(as_text=True)


# --- print ---


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout


def pages(data: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def test_annex2_sheet_pdf_ticks_exactly_the_right_boxes(app, opened, login_as, tmp_path):
    long_reason = "经核实，" + "简介已按要求补充完整" * 90  # must not push the sheet onto page 2
    form = review_form(opened, item_1=("no", long_reason))
    post(login_as("operator"), f"/staff/assessments/{opened.id}/review", action="submit", **form)
    authority = login_as("authority")
    post(authority, f"/staff/assessments/{opened.id}/confirm")
    response = authority.get(f"/staff/assessments/{opened.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdftotext(response.data, tmp_path)
    assert "佛山市年度考核检测有限公司" in text and "2025年07月06日至2026年07月05日" in text
    for line in (
        "近三年内有无违法违规行为",
        "经查实一年内的投诉件数是否大于3件",
        "机构服务差评跟进处理后是否满意",
    ):
        assert line in text
    assert text.count("☑") == 11 and text.count("□") == 11  # one tick per item, one for the result
    assert "☑是" in text.replace(" ", "") and "☑不合格" in text.replace(" ", "")
    assert re.search(r"机构得分：\s*40\s*分", text)  # item 1 waived by the operator
    assert "改判" in text
    assert "注：1．考核满分为100分，合格为60分。" in text
    assert "线上平台运维机构（签字）" in text and "线上平台管理单位（签字）" in text
    assert pages(response.data, tmp_path) == 1


def test_annex2_blank_sheet_has_no_tick(app, login_as, tmp_path):
    response = login_as("operator").get("/staff/assessments/blank.pdf")
    text = pdftotext(response.data, tmp_path)
    assert "入驻机构考核评分表（试行）" in text and "☑" not in text and text.count("□") == 22
    assert "服务项目及内容编写是否符合规范" in text


def test_art16_public_check_shows_the_result_and_nothing_else(app, opened, login_as, client):
    path = f"/assessments/verify/{opened.code}"
    assert "尚未确认" in client.get(path).get_data(as_text=True)
    post(
        login_as("operator"), f"/staff/assessments/{opened.id}/review", action="submit", **review_form(opened)
    )
    post(login_as("authority"), f"/staff/assessments/{opened.id}/confirm")
    page = client.get(path).get_data(as_text=True)
    assert "佛山市年度考核检测有限公司" in page and "30分" in page and "不合格" in page
    assert "投诉" not in page and "佛市监罚" not in page  # no evidence on the public page
    assert client.get("/assessments/verify/not-a-code").status_code == 404


def test_staff_list_filters_by_year_cycle_and_state(app, opened, login_as):
    operator = login_as("operator")
    page = operator.get("/staff/assessments?year=2026&number=1&state=reviewing").get_data(as_text=True)
    assert "佛山市年度考核检测有限公司" in page and "待运维审核" in page
    assert "佛山市年度考核检测有限公司" not in operator.get("/staff/assessments?state=confirmed").get_data(
        as_text=True
    )
    assert "下载空白评分表" in page


# --- batch printing ---


@pytest.fixture
def cycle_of_thirty(app, make_institution):
    for n in range(30):
        make_institution(
            f"佛山市批量打印第{n + 1:02d}检测所", opened_on=OPENED, agents=[("客服", "13812345678")]
        )
    opened = assessments.open_due(date(2026, 7, 6))
    db.session.commit()
    return opened


def test_batch_print_runs_in_the_worker_with_progress(app, runner, cycle_of_thirty, login_as, tmp_path):
    operator = login_as("operator")
    path = "/staff/assessments?number=1&state=reviewing"
    assert "批量打印（30份）" in operator.get(path).get_data(as_text=True)
    queued = operator.post(
        "/staff/assessments/print",
        data={"number": "1", "state": "reviewing", "year": "", "csrf_token": csrf(operator, path)},
    )
    job_page = queued.headers["Location"]
    page = operator.get(job_page).get_data(as_text=True)
    assert "共 30 份 · 排队中" in page and 'hx-trigger="every 2s"' in page
    assert login_as("authority").get(job_page).status_code == 404  # another's job
    assert "批量打印）：完成1个" in runner.invoke(args=["qzt", "tick"]).output
    partial = operator.get(job_page, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and "已完成" in partial and "hx-trigger" not in partial
    pdf = operator.get(f"{job_page}.pdf")
    assert pdf.status_code == 200 and pages(pdf.data, tmp_path) == 30
    text = pdftotext(pdf.data, tmp_path)
    assert text.index("第01检测所") < text.index("第02检测所") < text.index("第30检测所")
    assert "http://localhost/assessments/verify/" in text  # the QR's address, as staff reached the site


def test_batch_print_abandoned_by_a_dead_worker_is_run_again(app, runner, cycle_of_thirty, people):
    from qzt.assessments import printing
    from qzt.models import BackgroundJob, JobState

    job = printing.request_batch(people["operator"], assessments.Filters(ids=(cycle_of_thirty[0].id,)))
    job.state, job.claimed_at = JobState.RUNNING, at("2026-07-06T08:00")  # a worker died on it
    db.session.commit()
    app.config["QZT_CLOCK"] = "2026-07-06T08:10:00+08:00"
    runner.invoke(args=["qzt", "tick"])
    assert db.session.get(BackgroundJob, job.id).state == JobState.RUNNING  # still within 15 minutes
    app.config["QZT_CLOCK"] = "2026-07-06T08:16:00+08:00"
    runner.invoke(args=["qzt", "tick"])
    db.session.expire_all()
    assert db.session.get(BackgroundJob, job.id).state == JobState.DONE


def test_batch_print_of_nothing_says_so(app, login_as):
    operator = login_as("operator")
    response = operator.post(
        "/staff/assessments/print", data={"csrf_token": csrf(operator, "/staff/assessments")}
    )
    assert response.status_code == 302
    assert "没有符合筛选条件的评分表" in operator.get(response.headers["Location"]).get_data(as_text=True)


def test_art16_cycle_overview_counts_results_scores_and_each_items_deduction_rate(
    app, opened, make_institution, login_as
):
    """One sheet fails (40: item 3 overridden to 否), one passes (every deduction overridden), one of
    another year waits for the operator."""
    operator, authority = login_as("operator"), login_as("authority")
    post(
        operator,
        f"/staff/assessments/{opened.id}/review",
        action="submit",
        **review_form(opened, item_3=("no", "简介已于周期内补全")),
    )
    clean = make_institution("佛山市合格计量有限公司", opened_on=OPENED)
    make_institution("佛山市待审计量有限公司", opened_on=date(2024, 1, 8))
    assessments.open_due(date(2026, 7, 6))
    db.session.commit()
    passing = db.session.scalar(db.select(Assessment).where(Assessment.institution_id == clean.id))
    everything_no = {f"item_{i.number}": ("no", "运维机构核实不扣分") for i in passing.items if i.computed}
    post(
        operator,
        f"/staff/assessments/{passing.id}/review",
        action="submit",
        **review_form(passing, **everything_no),
    )
    for a in (opened, passing):
        assert post(authority, f"/staff/assessments/{a.id}/confirm").status_code == 302

    page = authority.get("/staff/assessments?year=2026").get_data(as_text=True)
    counts = dict(
        re.findall(
            r"<span>(合格|不合格|待审定|待运维审核|平均分（已确认）)</span><strong>([^<]+)</strong>", page
        )
    )
    assert counts == {
        "合格": "1",
        "不合格": "1",
        "待审定": "0",
        "待运维审核": "0",
        "平均分（已确认）": "70.0",
    }
    assert page.count('<svg class="pygal-chart"') == 2
    assert re.search(r"<th scope=\"row\">60分以下（不合格）</th><td class=num>1</td>", page)
    assert re.search(r"<th scope=\"row\">90–100分</th><td class=num>1</td>", page)
    assert re.search(r"第2项</th><td>[^<]+</td><td class=num>1</td><td class=num>50.0%", page)
    assert re.search(r"第3项</th><td>[^<]+</td><td class=num>0</td><td class=num>0.0%", page)  # overridden

    everything = authority.get("/staff/assessments").get_data(as_text=True)
    assert "<span>待运维审核</span><strong>1</strong>" in everything  # the 2025 cycle of the third one
    workbook = openpyxl.load_workbook(
        io.BytesIO(authority.get("/staff/assessments/overview.xlsx?year=2026").data)
    )
    assert workbook.sheetnames == ["考核结果", "得分分布", "各项扣分率"]
    assert ("不合格", 1) in [tuple(c.value for c in r) for r in workbook["考核结果"].iter_rows()]
    empty = authority.get("/staff/assessments?year=2025").get_data(as_text=True)
    assert "所选期间没有记录" in empty and "<strong>—</strong>" in empty
