"""Complaints, spot checks, credit records, the 清退通知 letter (Art. 5, 12, 15, 17; Annex 2 items 1–2)."""

import io
import re
import subprocess
from datetime import date

import pytest
from onboarding_helpers import PDF
from shared_fixtures import csrf

from qzt.assessments import records
from qzt.extensions import db
from qzt.models import (
    AuditRecord,
    Complaint,
    ComplaintState,
    CreditRecord,
    ExpulsionNotice,
    ListingState,
    Notification,
    Role,
    SpotCheck,
)


def post(client, path, page=None, **data):
    return client.post(path, data={**data, "csrf_token": csrf(client, page or "/privacy")})


@pytest.fixture
def listed(make_institution, make_user):
    owner = make_user(Role.INSTITUTION, phone="13700000002", name="机构账号")
    inst = make_institution("佛山市被投诉检测所", agents=[("李客服", "13812345678")])
    inst.owner_id = owner.id
    db.session.commit()
    return inst


def file_complaint(client, inst, **data):
    path = f"/institutions/{inst.id}/complaint"
    form = {"agent": "", "body": "", "csrf_token": csrf(client, path), **data}
    return client.post(path, data=form, content_type="multipart/form-data")


def notices(kind):
    return list(db.session.scalars(db.select(Notification).where(Notification.kind == kind)))


def test_art17_a_complaint_against_an_agent_reaches_the_operator_with_a_deadline(app, listed, login_as):
    app.config["QZT_CLOCK"] = "2026-03-02T10:00:00+08:00"  # a Monday
    login_as("operator")
    enterprise = login_as("enterprise")
    agent = listed.agents[0]
    response = file_complaint(
        enterprise,
        listed,
        agent=str(agent.id),
        body="3月1日咨询检测周期，客服答应当天回电，至今未联系，报价也与主页不符。",
        may_contact="y",
        evidence=[(io.BytesIO(PDF), "聊天记录.pdf")],
    )
    assert response.status_code == 302
    complaint = db.session.scalar(db.select(Complaint))
    assert complaint.agent_name == "李客服" and complaint.may_contact
    assert complaint.state == ComplaintState.PENDING
    assert complaint.due_on == date(2026, 3, 23)  # 15 working days
    assert len(complaint.evidence_file_ids) == 1
    [told] = notices("complaint_filed")
    assert "2026年03月23日" in told.body and "李客服" in told.body
    page = enterprise.get(response.headers["Location"]).get_data(as_text=True)
    assert "待核查" in page and "聊天记录.pdf" in page and "2026-03-23" in page


def test_a_complaint_with_a_mistake_keeps_what_was_typed_and_uploaded(listed, login_as):
    enterprise = login_as("enterprise")
    response = file_complaint(
        enterprise, listed, body="太差了", evidence=[(io.BytesIO(PDF), "合同.pdf")], may_contact="y"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "至少10个字" in page and "太差了" in page and "合同.pdf" in page
    kept = db.session.scalar(db.select(db.func.max(Complaint.id)))
    assert kept is None
    # The upload is kept: sending the form again without choosing the file files it with the evidence.
    kept_ids = page.split('name="kept" type="hidden" value="')[1].split('"')[0]
    again = file_complaint(enterprise, listed, body="客服答应回电却一直没有联系，延误了送检。", kept=kept_ids)
    assert again.status_code == 302
    assert len(db.session.scalar(db.select(Complaint)).evidence_file_ids) == 1


def test_a_rejected_upload_says_which_file_and_why(listed, login_as):
    response = file_complaint(
        login_as("enterprise"),
        listed,
        body="客服答应回电却一直没有联系，延误了送检。",
        evidence=[(io.BytesIO(b"MZ\x90\x00 not a pdf"), "报告.pdf")],
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "“报告.pdf”" in page and "客服答应回电" in page
    assert db.session.scalar(db.select(Complaint)) is None


def test_the_institution_cannot_complain_about_itself_and_staff_cannot_file(listed, login_as):
    assert file_complaint(login_as("institution"), listed, body="x" * 20).status_code == 404
    assert login_as("operator").get(f"/institutions/{listed.id}/complaint").status_code == 403


def test_another_user_never_sees_a_complaint(listed, login_as):
    file_complaint(login_as("enterprise"), listed, body="客服答应回电却一直没有联系，延误了送检。")
    complaint = db.session.scalar(db.select(Complaint))
    other = login_as("enterprise", "13700000031")
    assert other.get(f"/complaints/{complaint.id}").status_code == 404
    assert login_as("institution").get(f"/complaints/{complaint.id}").status_code == 404


def verify(client, complaint, result, note="电话回访企业并调阅聊天记录，情况属实。"):
    return post(
        client,
        f"/staff/complaints/{complaint.id}/verify",
        f"/complaints/{complaint.id}",
        result=result,
        note=note,
    )


def filed(listed, login_as):
    file_complaint(login_as("enterprise"), listed, body="客服答应回电却一直没有联系，延误了送检。")
    return db.session.scalar(db.select(Complaint))


def test_art17_operator_verifies_substantiated_and_the_complainant_is_told(listed, login_as):
    complaint = filed(listed, login_as)
    operator = login_as("operator")
    missing = verify(operator, complaint, "substantiated", note="")
    assert missing.status_code == 422 and "请填写核查情况" in missing.get_data(as_text=True)
    assert verify(operator, complaint, "substantiated").status_code == 302
    db.session.refresh(complaint)
    assert complaint.state == ComplaintState.SUBSTANTIATED and complaint.verified_at is not None
    [told] = notices("complaint_verified")
    assert "属实" in told.body
    assert notices("complaint_substantiated")  # the institution hears it counts for item 2
    again = verify(operator, complaint, "unfounded")
    assert again.status_code == 422 and "已核查" in again.get_data(as_text=True)
    actions = set(db.session.scalars(db.select(AuditRecord.action)))
    assert {"complaint_filed", "complaint_verified"} <= actions


def test_art17_serious_complaint_is_proposed_and_the_authority_expels_from_it(listed, login_as, client):
    complaint = filed(listed, login_as)
    operator = login_as("operator")
    early = post(operator, f"/staff/complaints/{complaint.id}/serious", reason="多次失联")
    assert early.status_code == 422 and "只有查实的投诉" in early.get_data(as_text=True)
    verify(operator, complaint, "substantiated")
    login_as("authority")
    ok = post(operator, f"/staff/complaints/{complaint.id}/serious", reason="同一客服三个月内多次失联")
    assert ok.status_code == 302
    [proposal] = notices("expulsion_proposed")
    assert listed.name in proposal.body
    authority = login_as("authority")
    form = authority.get(f"/staff/institutions/{listed.id}?complaint={complaint.id}").get_data(as_text=True)
    assert 'value="complaint_serious" selected' in form and f"/complaints/{complaint.id}" in form
    path = f"/staff/institutions/{listed.id}"
    expelled = post(
        authority,
        f"{path}/expel",
        path,
        cause="complaint_serious",
        reason="投诉查实情节较重",
        evidence=f"/complaints/{complaint.id}",
    )
    assert expelled.status_code == 302
    assert client.get(f"/institutions/{listed.id}").status_code == 410


def test_art15_referral_records_the_body_and_the_date(app, listed, login_as):
    app.config["QZT_CLOCK"] = "2026-03-10T10:00:00+08:00"
    complaint = filed(listed, login_as)
    operator = login_as("operator")
    future = post(
        operator,
        f"/staff/complaints/{complaint.id}/referral",
        kind="administrative",
        body="佛山市禅城区市场监督管理局",
        on="2026-03-11",
    )
    assert future.status_code == 422 and "不晚于今天" in future.get_data(as_text=True)
    assert "佛山市禅城区市场监督管理局" in future.get_data(as_text=True)  # kept as typed
    ok = post(
        operator,
        f"/staff/complaints/{complaint.id}/referral",
        kind="administrative",
        body="佛山市禅城区市场监督管理局",
        on="2026-03-10",
    )
    assert ok.status_code == 302
    db.session.refresh(complaint)
    assert complaint.referral_body == "佛山市禅城区市场监督管理局"
    assert complaint.referral_on == date(2026, 3, 10)


def test_annex2_item2_counts_substantiated_complaints_filed_in_the_cycle(app, listed, login_as):
    operator = login_as("operator")
    for day in ("2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2027-03-10"):
        app.config["QZT_CLOCK"] = f"{day}T10:00:00+08:00"
        complaint = filed(listed, login_as) if day == "2026-03-02" else None
        if complaint is None:
            file_complaint(login_as("enterprise"), listed, body="客服答应回电却一直没有联系，延误了送检。")
            complaint = db.session.scalar(db.select(Complaint).order_by(Complaint.id.desc()))
        verify(operator, complaint, "substantiated")
    cycle = records.substantiated_complaints(listed.id, date(2026, 3, 1), date(2027, 3, 1))
    assert len(cycle) == 4
    from qzt.rules.complaints import item2_deducts

    assert item2_deducts(len(cycle)) and not item2_deducts(3)


def test_complaint_deadline_reminds_the_operators_once(app, runner, listed, login_as):
    app.config["QZT_CLOCK"] = "2026-03-02T10:00:00+08:00"
    login_as("operator")
    filed(listed, login_as)
    app.config["QZT_CLOCK"] = "2026-03-23T23:00:00+08:00"  # the last day
    assert "投诉核查逾期" not in runner.invoke(args=["qzt", "tick"]).output
    app.config["QZT_CLOCK"] = "2026-03-24T09:00:00+08:00"
    assert "投诉核查逾期提醒：新增1条" in runner.invoke(args=["qzt", "tick"]).output
    assert "投诉核查逾期" not in runner.invoke(args=["qzt", "tick"]).output
    assert len(notices("complaint_overdue")) == 1


# --- spot checks and credit records ---


def spot_check(client, inst, **data):
    path = f"/staff/institutions/{inst.id}"
    form = {
        "checked_on": "2026-03-10",
        "subject": "服务项目与资质是否相符",
        "finding": "",
        "result": "passed",
    }
    return client.post(
        f"{path}/spot-checks",
        data={**form, **data, "csrf_token": csrf(client, path)},
        content_type="multipart/form-data",
    )


def test_art15_spot_check_rectification_needs_a_deadline_and_is_followed_up(app, runner, listed, login_as):
    app.config["QZT_CLOCK"] = "2026-03-10T10:00:00+08:00"
    operator = login_as("operator")
    missing = spot_check(operator, listed, result="rectify", finding="CMA证书已过期仍在主页展示")
    page = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "整改期限" in page and "CMA证书已过期仍在主页展示" in page
    ok = spot_check(
        operator,
        listed,
        result="rectify",
        finding="CMA证书已过期仍在主页展示",
        rectify_by="2026-03-20",
        files=[(io.BytesIO(PDF), "抽查记录.pdf")],
    )
    assert ok.status_code == 302
    check = db.session.scalar(db.select(SpotCheck))
    assert check.awaiting_recheck and len(check.file_ids) == 1
    [told] = notices("spot_check")
    assert "限期整改" in told.body and "2026年03月20日" in told.body
    app.config["QZT_CLOCK"] = "2026-03-17T09:00:00+08:00"
    assert "抽查整改提醒：新增1条" in runner.invoke(args=["qzt", "tick"]).output  # 3 days before
    app.config["QZT_CLOCK"] = "2026-03-21T09:00:00+08:00"
    assert "抽查整改提醒：新增1条" in runner.invoke(args=["qzt", "tick"]).output  # the operators
    assert "抽查整改提醒" not in runner.invoke(args=["qzt", "tick"]).output
    operator = login_as("operator")  # eleven days on: a staff session lasts 12 hours at most
    listing = operator.get("/staff/spot-checks").get_data(as_text=True)
    assert "待复查" in listing and listed.name in listing
    path = f"/staff/institutions/{listed.id}"
    done = post(operator, f"/staff/spot-checks/{check.id}/recheck", path, outcome="rectified", note="已下架")
    assert done.status_code == 302
    db.session.refresh(check)
    assert check.recheck == "rectified" and not check.awaiting_recheck
    timeline = operator.get(path).get_data(as_text=True)
    assert "抽查复查" in timeline and "已下架" in timeline


def test_spot_check_is_for_operator_and_authority(listed, login_as):
    assert spot_check(login_as("admin"), listed).status_code == 403
    assert spot_check(login_as("authority"), listed).status_code == 302


def test_annex2_item1_reads_credit_records_of_three_years_before_the_cycle_end(app, listed, login_as):
    app.config["QZT_CLOCK"] = "2027-06-01T10:00:00+08:00"
    operator = login_as("operator")
    path = f"/staff/institutions/{listed.id}"
    no_source = post(operator, f"{path}/credit-records", path, kind="penalty", recorded_on="2026-01-05")
    assert no_source.status_code == 422 and "请填写来源" in no_source.get_data(as_text=True)
    for on in ("2024-03-01", "2024-03-02", "2027-03-01", "2027-03-02"):
        ok = post(
            operator,
            f"{path}/credit-records",
            path,
            kind="penalty",
            recorded_on=on,
            source=f"佛市监罚〔{on[:4]}〕1号",
        )
        assert ok.status_code == 302
    assert db.session.scalar(db.select(db.func.count(CreditRecord.id))) == 4
    counted = records.credit_records(listed.id, date(2027, 3, 1))
    assert sorted(r.recorded_on.isoformat() for r in counted) == ["2024-03-02", "2027-03-01"]
    assert "佛市监罚〔2024〕1号" in operator.get(path).get_data(as_text=True)


# --- the 清退通知 letter ---


def test_art17_expulsion_notice_pdf_verifies_by_its_code(listed, login_as, client, tmp_path):
    authority = login_as("authority")
    path = f"/staff/institutions/{listed.id}"
    post(authority, f"{path}/expel", path, cause="logo_misuse", reason="检测报告擅自使用平台标志")
    notice = db.session.scalar(db.select(ExpulsionNotice))
    assert notice.institution_name == listed.name and notice.cause == "logo_misuse"
    public = client.get(f"/notices/{notice.code}").get_data(as_text=True)
    assert "擅自使用平台标志" in public and listed.name in public and "下载" not in public
    assert client.get(f"/notices/{notice.code}.pdf").status_code == 404
    assert login_as("enterprise").get(f"/notices/{notice.code}.pdf").status_code == 404
    assert client.get("/notices/not-a-code").status_code == 404
    closed = client.get(f"/institutions/{listed.id}").get_data(as_text=True)
    assert f"/notices/{notice.code}" in closed
    pdf = login_as("institution").get(f"/notices/{notice.code}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    (tmp_path / "n.pdf").write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "n.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "清退通知书" in text and listed.name in text and notice.code in text
    assert f"/notices/{notice.code}" in text
    info = subprocess.run(["pdfinfo", str(tmp_path / "n.pdf")], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)  # a letter of one page, its evidence at the foot
    assert db.session.get(type(listed), listed.id).listing_state == ListingState.EXPELLED
