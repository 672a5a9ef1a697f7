"""The service loop of Art. 13–14 in a real browser, at phone width: an enterprise registers, finds an
institution and consults; the institution adds an agent who logs in with the code and replies; the
enterprise answers and closes; the agent marks 已成交, the enterprise confirms, the agent reports the case;
the operator sees it and exports Excel. Each person has their own browser context."""

import io
import re

import openpyxl
import pytest
from browser import prove_number
from factories import PASSWORD
from playwright.sync_api import expect

from qzt.extensions import db
from qzt.models import CaseReport, CaseState

pytestmark = pytest.mark.browser

OWNER, AGENT, ENTERPRISE, OPERATOR = "13700000002", "13700000021", "13600000009", "13700000004"


def test_an_enterprise_consults_an_agent_replies_and_the_case_is_reported(
    people, owned_institution, tmp_path
):
    # The institution adds an agent; the demo set-up shows the code that the SMS carries.
    owner = people()
    page = owner.login(OWNER)
    page.get_by_role("link", name="客服人员").click()
    page.get_by_label("客服姓名").fill("李客服")
    page.get_by_label("客服手机号码").fill(AGENT)
    page.get_by_label("服务时间").fill("工作日 8:00-18:00")
    page.get_by_role("button", name="添加客服人员").click()
    expect(page.get_by_text("演示环境验证码")).to_be_visible()
    code = page.get_by_role("status").filter(has_text="演示环境验证码").locator("strong").inner_text()
    owner.shoot("consult-agents")

    agent = people()
    page = agent.page
    page.goto(f"{agent.base}/login")
    page.get_by_role("link", name="客服首次登录").click()
    page.get_by_label("手机号码").fill(AGENT)
    page.get_by_label("验证码").fill(code)
    page.get_by_label("设置密码").fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.get_by_role("button", name="设置密码并登录").click()
    expect(page).to_have_url(f"{agent.base}/workbench")

    # An enterprise finds the institution, is sent to register, and comes back to the form.
    client = people()
    page = client.page
    page.goto(f"{client.base}/directory?q=家电")
    page.get_by_role("link", name="佛山市顺德区家电检测技术有限公司").click()
    page.get_by_role("link", name="在线咨询").click()
    page.get_by_role("link", name="注册").click()
    page.get_by_label("企业用户").check()
    page.get_by_label("企业名称").fill("佛山市美的家电有限公司")
    page.get_by_label("手机号码").fill(ENTERPRISE)
    prove_number(page)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.get_by_label("我已阅读并同意《隐私政策》").check()
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page).to_have_url(re.compile(r"/institutions/\d+/consult$"))
    page.get_by_label("咨询项目").select_option(label="检验检测 · 能效检测")
    page.get_by_label("咨询内容").fill("空调能效检测需要几天？")
    client.shoot("consult-form")
    page.get_by_role("button", name="提交咨询").click()
    expect(page.get_by_text("空调能效检测需要几天？")).to_be_visible()
    thread = page.url

    # The agent sees it waiting and replies.
    page = agent.page
    page.reload()
    expect(page.get_by_role("link", name=re.compile("机构工作台"))).to_contain_text("1")
    page.get_by_role("link", name=re.compile("能效检测")).first.click()
    page.get_by_label("回复内容").fill("一般5个工作日，可加急。")
    page.get_by_role("button", name="发送回复").click()
    expect(page.get_by_text("首次回复用时")).to_be_visible()

    # The enterprise sees the reply without reloading (polling), answers and closes.
    page = client.page
    expect(page.get_by_text("一般5个工作日，可加急。")).to_be_visible(timeout=15_000)
    page.get_by_label("回复内容").fill("好的，请发报价。")
    page.get_by_role("button", name="发送回复").click()
    client.shoot("consult-thread")
    page.get_by_role("button", name="结束咨询").click()
    expect(page.get_by_text("已结束").first).to_be_visible()

    # The agent marks the deal; the enterprise confirms; the agent reports the case.
    page = agent.page
    page.goto(thread)
    page.get_by_role("button", name="已成交").click()
    expect(page.get_by_label("客户名称")).to_have_value("佛山市美的家电有限公司")
    page = client.page
    page.goto(thread)
    page.get_by_role("button", name="确认成交").click()
    expect(page.get_by_text("企业已确认成交")).to_be_visible()
    page = agent.page
    page.reload()
    page.get_by_label("后续业务成交情况").fill("已签订检测委托")
    page.get_by_label("为客户节省金额（元）").fill("1500")
    page.get_by_role("button", name="报送案例").click()
    expect(page.get_by_text("案例已报送")).to_be_visible()
    agent.shoot("consult-case")
    db.session.expire_all()
    assert db.session.scalar(db.select(CaseReport)).state == CaseState.SUBMITTED

    # The operator finds it and exports it.
    operator = people()
    page = operator.login(OPERATOR)
    page.get_by_role("link", name="服务案例").click()
    expect(page.get_by_role("cell", name="佛山市美的家电有限公司")).to_be_visible()
    operator.shoot("consult-staff-cases")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出Excel").click()
    path = tmp_path / "cases.xlsx"
    download.value.save_as(path)
    rows = list(openpyxl.load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    assert rows[1][0] == "佛山市顺德区家电检测技术有限公司" and rows[1][2] == "佛山市美的家电有限公司"
