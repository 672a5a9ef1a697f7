"""Consultations (Art. 14): asking, the response-time clock, replies, closing, who sees what."""

import io
from datetime import datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from factories import PASSWORD
from onboarding_helpers import PDF
from shared_fixtures import csrf, log_in, page_text, sms_code

from qzt.extensions import db
from qzt.models import (
    CaseReport,
    CaseState,
    ChangeState,
    Consultation,
    DealState,
    Enterprise,
    HomepageChange,
    Notification,
    Role,
    User,
)
from qzt.rules.calendar import BEIJING

TUESDAY_10 = "2026-03-10T10:00:00+08:00"


def bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


@pytest.fixture
def institution(make_institution, make_user):
    owner = make_user(Role.INSTITUTION, phone="13700000002", name="机构账号")
    inst = make_institution(
        "佛山市禅城区测试检测有限公司",
        services=[("inspection", "家电安全检测", "GB 4706", True), ("metrology", "温度计校准", "", True)],
    )
    inst.owner_id = owner.id
    db.session.commit()
    return inst


@pytest.fixture
def enterprise(login_as):
    return login_as("enterprise", "13700000001")


@pytest.fixture
def agent(login_as, institution):
    return login_as("institution", "13700000002")


def set_clock(app, moment: str) -> None:
    app.config["QZT_CLOCK"] = moment


def ask(client, institution, body="请问家电安规检测周期多长？", item=None, **extra):
    path = f"/institutions/{institution.id}/consult"
    item = item if item is not None else str(institution.services[0].id)
    data = {"service_item": item, "body": body, "csrf_token": csrf(client, path), **extra}
    return client.post(path, data=data, content_type="multipart/form-data")


def post(client, path, **data):
    return client.post(path, data={**data, "csrf_token": csrf(client, "/consultations")})


def only_consultation() -> Consultation:
    return db.session.scalar(db.select(Consultation))


def test_art14_a_consultation_asked_on_a_working_morning_is_due_two_hours_later(app, enterprise, institution):
    set_clock(app, TUESDAY_10)
    response = ask(enterprise, institution)
    consultation = only_consultation()
    assert response.status_code == 302 and response.headers["Location"] == f"/consultations/{consultation.id}"
    assert consultation.topic == "家电安全检测"
    assert consultation.due_at == bj("2026-03-10 12:00")
    assert [m.body for m in consultation.messages] == ["请问家电安规检测周期多长？"]
    notice = db.session.scalar(db.select(Notification).where(Notification.kind == "consultation_new"))
    assert notice.user.phone == "13700000002" and "03月10日12:00" in notice.body


def test_art14_a_saturday_afternoon_question_is_due_six_hours_later(app, enterprise, institution):
    set_clock(app, "2026-03-14T15:00:00+08:00")
    ask(enterprise, institution)
    assert only_consultation().due_at == bj("2026-03-14 21:00")


def test_art14_first_reply_records_the_response_time_and_tells_the_enterprise(
    app, enterprise, agent, institution
):
    set_clock(app, TUESDAY_10)
    ask(enterprise, institution)
    consultation = only_consultation()
    set_clock(app, "2026-03-10T11:30:00+08:00")
    assert (
        post(agent, f"/consultations/{consultation.id}/messages", body="一般5个工作日出报告。").status_code
        == 302
    )
    db.session.refresh(consultation)
    assert consultation.first_reply_at == bj("2026-03-10 11:30")
    assert consultation.response_seconds == 90 * 60
    assert not consultation.is_overdue(bj("2026-03-10 11:30"))
    replies = db.session.scalars(
        db.select(Notification).where(Notification.kind == "consultation_reply")
    ).all()
    assert [n.user.phone for n in replies] == ["13700000001"]
    # A second reply does not move the Art. 14 figures.
    set_clock(app, "2026-03-10T15:00:00+08:00")
    post(agent, f"/consultations/{consultation.id}/messages", body="补充：可加急。")
    db.session.refresh(consultation)
    assert consultation.response_seconds == 90 * 60


def test_art14_a_late_first_reply_is_overdue_and_counted_on_the_workbench_and_for_staff(
    app, enterprise, agent, institution, login_as
):
    set_clock(app, "2026-03-13T17:00:00+08:00")  # Friday: due Monday 09:00
    ask(enterprise, institution)
    consultation = only_consultation()
    set_clock(app, "2026-03-16T10:30:00+08:00")
    html = agent.get("/workbench").get_data(as_text=True)
    assert "已超过回复时限" in html and "待回复" in html
    post(agent, f"/consultations/{consultation.id}/messages", body="抱歉回复晚了。")
    db.session.refresh(consultation)
    assert consultation.response_seconds == int(timedelta(hours=3, minutes=30).total_seconds())
    assert consultation.is_overdue(bj("2026-03-16 10:30"))
    html = agent.get("/workbench").get_data(as_text=True)
    assert "3小时30分" in html and "未达标" in html
    staff = login_as("operator").get("/staff/consultations").get_data(as_text=True)
    assert institution.name in staff and "3小时30分" in staff


def test_an_enterprise_sees_only_its_own_threads_and_an_institution_only_its_own(
    app, enterprise, institution, make_institution, make_user, login_as
):
    ask(enterprise, institution)
    consultation = only_consultation()
    path = f"/consultations/{consultation.id}"
    other_enterprise = login_as("enterprise", "13700000011")
    assert other_enterprise.get(path).status_code == 404
    assert post(other_enterprise, f"{path}/messages", body="插话").status_code == 404
    other_owner = make_user(Role.INSTITUTION, phone="13700000012")
    other = make_institution("佛山市另一家检测所")
    other.owner_id = other_owner.id
    db.session.commit()
    other_agent = login_as("institution", "13700000012")
    assert other_agent.get(path).status_code == 404
    assert consultation.topic not in other_agent.get("/consultations").get_data(as_text=True)
    assert login_as("authority").get(path).status_code == 200  # staff read (Art. 15 spot checks)


def test_visitors_log_in_and_come_back_to_the_consult_form(client, institution, make_user):
    path = f"/institutions/{institution.id}/consult"
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    make_user(Role.ENTERPRISE, phone="13700000001")
    assert log_in(client, "13700000001", next_url=path).headers["Location"] == path
    assert "提交咨询" in client.get(path).get_data(as_text=True)


def test_only_enterprise_accounts_consult(institution, login_as):
    response = login_as("institution", "13700000002").get(f"/institutions/{institution.id}/consult")
    assert response.status_code == 403 and "企业用户" in response.get_data(as_text=True)


def test_an_empty_question_is_refused_and_the_choice_kept(enterprise, institution):
    response = ask(enterprise, institution, body="   ", item=str(institution.services[1].id))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写咨询内容" in html
    assert f'<option selected value="{institution.services[1].id}">' in html
    assert only_consultation() is None


def test_a_bad_attachment_is_refused_and_the_question_kept(enterprise, institution):
    exe = (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 64), "report.exe")
    response = ask(enterprise, institution, body="附上说明书", attachment=exe)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "附上说明书" in html and "PDF" in html
    assert only_consultation() is None


def test_either_side_closes_and_nobody_replies_after(enterprise, agent, institution):
    ask(enterprise, institution)
    consultation = only_consultation()
    assert post(enterprise, f"/consultations/{consultation.id}/close").status_code == 302
    db.session.refresh(consultation)
    assert not consultation.is_open and consultation.closed_by.phone == "13700000001"
    response = post(agent, f"/consultations/{consultation.id}/messages", body="还在吗？")
    assert response.status_code == 422 and "咨询已结束" in response.get_data(as_text=True)


def test_the_header_counts_unread_threads_and_reading_clears_them(enterprise, agent, institution):
    ask(enterprise, institution)
    consultation = only_consultation()
    assert 'aria-label="1条未读"' in agent.get("/workbench").get_data(as_text=True)
    agent.get(f"/consultations/{consultation.id}")
    assert "条未读" not in agent.get("/workbench").get_data(as_text=True)
    post(agent, f"/consultations/{consultation.id}/messages", body="您好")
    assert 'aria-label="1条未读"' in enterprise.get("/consultations").get_data(as_text=True)


def test_polling_returns_the_messages_alone(enterprise, institution):
    ask(enterprise, institution)
    consultation = only_consultation()
    page = enterprise.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert f'hx-get="/consultations/{consultation.id}/messages"' in page and 'hx-trigger="every 10s"' in page
    fragment = enterprise.get(f"/consultations/{consultation.id}/messages", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "请问家电安规检测周期多长？" in html


def test_registering_as_an_enterprise_keeps_the_company_and_returns_to_the_consult_form(client, institution):
    path = f"/institutions/{institution.id}/consult"
    data = {
        "kind": "enterprise",
        "company_name": "佛山市美的家电有限公司",
        "company_uscc": "",
        "phone": "13600000009",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "consent": "y",
    }
    data["code"] = sms_code(client, "/register", "13600000009")
    response = client.post(f"/register?next={path}", data={**data, "csrf_token": csrf(client, "/register")})
    assert response.status_code == 302 and response.headers["Location"] == path
    user = db.session.scalar(db.select(User).where(User.phone == "13600000009"))
    company = db.session.scalar(db.select(Enterprise).where(Enterprise.user_id == user.id))
    assert user.role == Role.ENTERPRISE and user.name == company.name == "佛山市美的家电有限公司"


def test_registering_as_an_enterprise_needs_a_name_and_a_valid_code_when_given(client):
    data = {"kind": "enterprise", "company_name": "", "company_uscc": "123", "phone": "13600000009"}
    response = client.post("/register", data={**data, "csrf_token": csrf(client, "/register")})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写企业名称" in html and "统一社会信用代码" in html
    response = client.post(
        "/register", data={"phone": "13600000009", "csrf_token": csrf(client, "/register")}
    )
    assert "请选择账号类型" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "role, landing",
    [("enterprise", "/consultations"), ("institution", "/workbench"), ("operator", "/staff/applications")],
)
def test_each_role_lands_on_its_own_page_after_login(client, make_user, role, landing):
    make_user(Role(role), phone="13600000010")
    assert log_in(client, "13600000010").headers["Location"] == landing


def test_art13_the_workbench_lists_what_the_homepage_lacks_and_by_when(app, agent, institution):
    set_clock(app, "2025-01-08T10:00:00+08:00")  # opened Monday 2025-01-06: due Monday 01-13
    html = agent.get("/workbench").get_data(as_text=True)
    assert "截止 2025-01-13" in html and "已逾期" not in html
    assert "机构简介至少20个字" in html and "请配备至少1名客服人员" in html
    set_clock(app, "2025-01-14T10:00:00+08:00")
    assert "已逾期" in agent.get("/workbench").get_data(as_text=True)


def test_art14_tick_reminds_the_institution_once_when_a_reply_falls_due(app, enterprise, institution, runner):
    set_clock(app, TUESDAY_10)  # due 12:00
    ask(enterprise, institution)
    reminders = db.select(Notification).where(Notification.kind == "consultation_due")
    set_clock(app, "2026-03-10T11:20:00+08:00")
    runner.invoke(args=["qzt", "tick"])
    assert db.session.scalars(reminders).all() == []  # 40 minutes left: not yet
    set_clock(app, "2026-03-10T11:31:00+08:00")
    result = runner.invoke(args=["qzt", "tick"])
    assert "咨询即将超时提醒：新增1条" in result.output
    runner.invoke(args=["qzt", "tick"])
    (notice,) = db.session.scalars(reminders).all()
    assert notice.user.phone == "13700000002" and "12:00前首次回复" in notice.body


# --- orders and case reports (Art. 13; Annex 2 item 6 and note 2) ---


def answered(app, enterprise, agent, institution) -> Consultation:
    set_clock(app, TUESDAY_10)
    ask(enterprise, institution)
    consultation = only_consultation()
    set_clock(app, "2026-03-10T11:00:00+08:00")
    post(agent, f"/consultations/{consultation.id}/messages", body="可以做，5个工作日出报告，费用约3000元。")
    return consultation


def test_art13_marking_a_deal_drafts_the_case_report_from_the_thread(app, enterprise, agent, institution):
    consultation = answered(app, enterprise, agent, institution)
    response = post(agent, f"/consultations/{consultation.id}/deal")
    case = db.session.scalar(db.select(CaseReport))
    assert response.headers["Location"] == f"/cases/{case.id}"
    assert case.asked_at == bj("2026-03-10 10:00") and case.topic == "家电安全检测"
    assert case.client_name == "测试用户" and case.client_contact == "13700000001"
    assert case.details == "请问家电安规检测周期多长？" and "5个工作日" in case.reply_summary
    assert case.state == CaseState.DRAFT
    html = enterprise.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "确认成交" in html and "不属实" in html


def test_annex2_a_valid_order_is_one_the_enterprise_confirms(app, enterprise, agent, institution):
    consultation = answered(app, enterprise, agent, institution)
    post(agent, f"/consultations/{consultation.id}/deal")
    path = f"/consultations/{consultation.id}/deal/decision"
    assert (
        agent.post(path, data={"decision": "confirm", "csrf_token": csrf(agent, "/workbench")}).status_code
        == 403
    )
    post(enterprise, path, decision="confirm")
    db.session.refresh(consultation)
    assert consultation.deal_state == DealState.CONFIRMED and consultation.deal_confirmed_at is not None
    html = agent.get("/workbench").get_data(as_text=True)
    assert (
        "有效订单 <strong>1</strong> / 30 单" in html
    )  # inspection, 2nd year of service (opened 2025-01-06)


def test_annex2_a_disputed_deal_is_no_order(app, enterprise, agent, institution):
    consultation = answered(app, enterprise, agent, institution)
    post(agent, f"/consultations/{consultation.id}/deal")
    post(enterprise, f"/consultations/{consultation.id}/deal/decision", decision="dispute")
    db.session.refresh(consultation)
    assert consultation.deal_state == DealState.DISPUTED
    assert "有效订单 <strong>0</strong>" in agent.get("/workbench").get_data(as_text=True)


def case_fields(**changes) -> dict:
    return {
        "client_name": "佛山市美的家电有限公司",
        "client_contact": "13700000001",
        "topic": "家电安全检测",
        "details": "空调安规检测",
        "reply_summary": "5个工作日出报告",
        "deal_status": "已签订检测委托",
        "saved_amount": "1,500.50元",
        **changes,
    }


def test_art13_a_case_report_is_submitted_with_every_field_and_money_in_yuan(
    app, enterprise, agent, institution, login_as
):
    consultation = answered(app, enterprise, agent, institution)
    post(agent, f"/consultations/{consultation.id}/deal")
    case = db.session.scalar(db.select(CaseReport))
    path = f"/cases/{case.id}"
    response = agent.post(
        path, data={**case_fields(saved_amount="很多"), "action": "submit", "csrf_token": csrf(agent, path)}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写金额（元）" in html and "空调安规检测" in html
    response = agent.post(
        path, data={**case_fields(details=""), "action": "submit", "csrf_token": csrf(agent, path)}
    )
    assert response.status_code == 422 and "请填写：具体内容" in response.get_data(as_text=True)
    response = agent.post(path, data={**case_fields(), "action": "submit", "csrf_token": csrf(agent, path)})
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.state == CaseState.SUBMITTED and case.saved_amount == Decimal("1500.50")
    assert "已报送成功案例 <strong>1</strong> / 10 个" in agent.get("/workbench").get_data(as_text=True)
    # The operator sees it, filters it and exports it; the client's contact stays off public pages.
    operator = login_as("operator")
    assert "佛山市美的家电有限公司" in operator.get("/staff/cases?institution=测试检测").get_data(
        as_text=True
    )
    assert "佛山市美的家电有限公司" not in operator.get("/staff/cases?institution=别家").get_data(
        as_text=True
    )
    export = operator.get("/staff/cases.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "机构名称" and rows[1][2] == "佛山市美的家电有限公司" and rows[1][8] == 1500.5
    public = enterprise.get(f"/institutions/{institution.id}").get_data(as_text=True)
    api = enterprise.get(f"/api/v1/institutions/{institution.id}").get_data(as_text=True)
    assert "13700000001" not in public and "13700000001" not in api


# --- customer-service agents (Art. 6, 14) ---


def add_agent(owner, name="李客服", mobile="13700000021", hours="工作日 8:00-18:00"):
    path = "/workbench/agents"
    return owner.post(
        path, data={"name": name, "mobile": mobile, "hours": hours, "csrf_token": csrf(owner, path)}
    )


def activate(client, phone, code, password=PASSWORD):
    data = {"phone": phone, "code": code, "password": password, "confirm": password}
    return client.post("/activate", data={**data, "csrf_token": csrf(client, "/activate")})


def demo_code(html: str) -> str:
    return html.split("演示环境验证码：")[1].split('<strong class="num">')[-1][:6]


def test_art6_an_agent_gets_a_login_sets_its_password_and_answers(
    app, client, enterprise, agent, institution
):
    response = add_agent(agent)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "已添加客服人员 李客服" in html
    code = demo_code(html)
    assert code.isdigit()
    invited = db.session.scalar(db.select(Notification).where(Notification.kind == "agent_invited"))
    assert invited.phone == "13700000021" and code in invited.body
    # The homepage shows the agent; first login with the code.
    assert "李客服" in client.get(f"/institutions/{institution.id}").get_data(as_text=True)
    assert log_in(client, "13700000021").status_code == 422  # no password of its own yet
    assert activate(client, "13700000021", "000000" if code != "000000" else "111111").status_code == 422
    response = activate(client, "13700000021", code)
    assert response.status_code == 302 and response.headers["Location"] == "/workbench"
    assert activate(app.test_client(), "13700000021", code).status_code == 422  # used up
    # The agent is told of new consultations and answers on the institution's side.
    set_clock(app, TUESDAY_10)
    ask(enterprise, institution)
    consultation = only_consultation()
    told = db.session.scalars(db.select(Notification).where(Notification.kind == "consultation_new")).all()
    assert sorted(n.phone for n in told) == ["13700000002", "13700000021"]
    set_clock(app, "2026-03-10T10:30:00+08:00")
    assert (
        post(client, f"/consultations/{consultation.id}/messages", body="您好，我是客服李。").status_code
        == 302
    )
    db.session.refresh(consultation)
    assert consultation.response_seconds == 30 * 60
    assert consultation.messages[-1].author.name == "李客服"


def test_art6_one_or_two_agents_and_a_third_is_refused(agent):
    add_agent(agent)
    add_agent(agent, name="王客服", mobile="13700000022")
    html = add_agent(agent, name="赵客服", mobile="13700000023").get_data(as_text=True)
    assert "添加客服人员</button>" not in html  # the form is gone once there are two
    response = agent.post(
        "/workbench/agents",
        data={
            "name": "赵客服",
            "mobile": "13700000023",
            "hours": "全天",
            "csrf_token": csrf(agent, "/workbench"),
        },
    )
    assert response.status_code == 422 and "最多配备2名客服人员" in response.get_data(as_text=True)


def test_art6_a_bad_agent_form_says_what_to_fix_and_keeps_the_text(agent):
    response = add_agent(agent, name="李客服", mobile="12345", hours="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "11位手机号码" in html and "请填写服务时间" in html
    assert 'value="李客服"' in html


def test_an_agent_sees_only_its_own_institution(
    app, enterprise, agent, institution, make_institution, make_user
):
    ask(enterprise, institution)
    consultation = only_consultation()
    other = make_institution("佛山市另一家检测所")
    other.owner_id = make_user(Role.INSTITUTION, phone="13700000031").id
    db.session.commit()
    from shared_fixtures import log_in as _log_in

    other_owner = app.test_client()
    _log_in(other_owner, "13700000031")
    code = demo_code(add_agent(other_owner, mobile="13700000032").get_data(as_text=True))
    other_agent = app.test_client()
    activate(other_agent, "13700000032", code)
    assert other_agent.get(f"/consultations/{consultation.id}").status_code == 404
    assert other_agent.get("/workbench/agents").status_code == 403  # agents do not manage agents


def test_removing_an_agent_switches_its_login_off_and_keeps_its_replies(app, enterprise, agent, institution):
    code = demo_code(add_agent(agent).get_data(as_text=True))
    helper = app.test_client()
    activate(helper, "13700000021", code)
    ask(enterprise, institution)
    consultation = only_consultation()
    post(helper, f"/consultations/{consultation.id}/messages", body="客服回复")
    agent_id = institution.agents[0].id
    assert post(agent, f"/workbench/agents/{agent_id}/remove").status_code == 302
    db.session.expire_all()
    assert institution.agents == []
    assert consultation.messages[-1].author.name == "李客服" and not consultation.messages[-1].author.active
    assert log_in(app.test_client(), "13700000021").status_code == 422


def test_reading_never_conflicts_with_a_reply_written_meanwhile(enterprise, agent, institution):
    """The open thread polls every 10 s; a read marker must not move the version a reply checks."""
    ask(enterprise, institution)
    consultation = only_consultation()
    version = consultation.version
    enterprise.get(f"/consultations/{consultation.id}/messages", headers={"HX-Request": "true"})
    agent.get(f"/consultations/{consultation.id}")
    db.session.refresh(consultation)
    assert consultation.version == version and consultation.institution_read_at is not None
    assert post(agent, f"/consultations/{consultation.id}/messages", body="您好").status_code == 302


# --- homepage upkeep (Art. 13) ---


def homepage_fields(**changes) -> dict:
    fields = {
        "introduction": "专业从事家用电器安全、能效检验检测，具备CMA和CNAS资质，服务顺德家电产业。",
        "address": "佛山市顺德区大良街道新城区1号",
        "phone": "0757-22223333",
        "s-0-category": "inspection",
        "s-0-title": "家电安全检测",
        "s-0-content": "GB 4706",
        "s-0-featured": "y",
        "s-1-category": "metrology",
        "s-1-title": "温度计校准",
        "s-1-content": "",
        "s-1-featured": "y",
        "s-2-category": "testing",
        "s-2-title": "电磁兼容测试",
        "s-2-content": "EMC",
    }
    return {**fields, **changes}


def test_art13_introduction_and_services_go_live_at_once_and_staff_see_the_edit(
    agent, institution, client, login_as
):
    response = agent.post(
        "/workbench/homepage", data={**homepage_fields(), "csrf_token": csrf(agent, "/workbench")}
    )
    assert response.status_code == 302
    page = client.get(f"/institutions/{institution.id}").get_data(as_text=True)
    assert "服务顺德家电产业" in page and "电磁兼容测试" in page and "0757-22223333" in page
    assert institution.name in page_text(client.get("/directory?q=电磁兼容"))  # the index follows
    feed = login_as("operator").get("/staff/changes").get_data(as_text=True)
    assert institution.name in feed and "简介" in feed and "服务项目" in feed


def test_art7_the_homepage_keeps_two_to_three_featured_items_and_the_typed_text(agent, institution):
    fields = homepage_fields(**{"s-1-featured": ""})
    response = agent.post("/workbench/homepage", data={**fields, "csrf_token": csrf(agent, "/workbench")})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "请将2至3项设为优势服务项目（当前1项）" in html
    assert "电磁兼容测试" in html and "服务顺德家电产业" in html
    db.session.refresh(institution)
    assert "服务顺德家电产业" not in institution.introduction


def test_art13_a_new_certificate_goes_live_once_the_operator_accepts_it(
    app, agent, institution, client, login_as
):
    set_clock(app, TUESDAY_10)
    data = {
        "q_name": "检验检测机构资质认定证书",
        "q_number": "201919000000",
        "q_issuer": "广东省市场监督管理局",
        "q_valid_until": "2026-03-09",
        "q_file": (io.BytesIO(PDF), "cma.pdf"),
        "csrf_token": csrf(agent, "/workbench"),
    }
    response = agent.post(
        "/workbench/homepage/changes/qualification", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "已于2026-03-09过期" in response.get_data(as_text=True)
    data.update(q_valid_until="2028-06-30", q_file=(io.BytesIO(PDF), "cma.pdf"))
    response = agent.post(
        "/workbench/homepage/changes/qualification", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    assert "201919000000" not in client.get(f"/institutions/{institution.id}").get_data(as_text=True)
    change = db.session.scalar(db.select(HomepageChange))
    operator = login_as("operator")
    returned = operator.post(
        f"/staff/changes/{change.id}/return",
        data={"version": change.version, "reason": "", "csrf_token": csrf(operator, "/staff/changes")},
        follow_redirects=True,
    )
    assert "请填写退回理由" in returned.get_data(as_text=True)
    operator.post(
        f"/staff/changes/{change.id}/accept",
        data={"version": change.version, "csrf_token": csrf(operator, "/staff/changes")},
    )
    assert "201919000000" in client.get(f"/institutions/{institution.id}").get_data(as_text=True)
    told = db.session.scalar(db.select(Notification).where(Notification.kind == "change_decided"))
    assert told.phone == "13700000002" and "已通过" in told.body


def test_art13_a_new_name_waits_for_the_operator(agent, institution, client, login_as):
    agent.post(
        "/workbench/homepage/changes/name",
        data={"name": "佛山市顺德区新名检测有限公司", "csrf_token": csrf(agent, "/workbench")},
    )
    assert "新名检测" not in client.get(f"/institutions/{institution.id}").get_data(as_text=True)
    change = db.session.scalar(db.select(HomepageChange))
    operator = login_as("operator")
    operator.post(
        f"/staff/changes/{change.id}/return",
        data={
            "version": change.version,
            "reason": "与营业执照不一致",
            "csrf_token": csrf(operator, "/staff/changes"),
        },
    )
    db.session.refresh(change)
    assert change.state == ChangeState.RETURNED and change.reason == "与营业执照不一致"
    assert "新名检测" not in client.get(f"/institutions/{institution.id}").get_data(as_text=True)


def test_art13_tick_reminds_on_the_third_working_day_and_staff_see_the_overdue(
    app, agent, make_institution, make_user, runner, login_as
):
    owner = db.session.scalar(db.select(User).where(User.phone == "13700000002"))
    late = make_institution("佛山市新入驻检测所", opened_on=datetime(2026, 3, 10).date())  # a Tuesday
    late.owner_id = make_user(Role.INSTITUTION, phone="13700000041").id
    db.session.commit()
    reminders = db.select(Notification).where(Notification.kind == "upkeep_due")
    set_clock(app, "2026-03-12T09:00:00+08:00")  # 2nd working day: not yet
    runner.invoke(args=["qzt", "tick"])
    assert db.session.scalars(reminders).all() == []
    set_clock(app, "2026-03-13T09:00:00+08:00")  # 3rd working day
    assert "完善机构主页提醒：新增1条" in runner.invoke(args=["qzt", "tick"]).output
    runner.invoke(args=["qzt", "tick"])
    (notice,) = db.session.scalars(reminders).all()
    assert notice.phone == "13700000041" and "2026年03月17日前" in notice.body and owner.id != notice.user_id
    set_clock(app, "2026-03-18T09:00:00+08:00")  # past the 5th working day (03-17)
    staff = login_as("operator").get("/staff/changes").get_data(as_text=True)
    assert "佛山市新入驻检测所" in staff.split("逾期未完善主页的机构")[1].split("已公示的主页修改")[0]
