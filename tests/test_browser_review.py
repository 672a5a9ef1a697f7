"""Admission after submission in a real browser (Art. 10–12): the operator screens and asks for more,
the applicant supplies it and signs again, the operator recommends, the authority approves, and the
institution is listed. Also two operators claiming the same application at once.

Each person has their own browser context (their own cookies), and logs in through /login. The
applications are submitted through the test client: the wizard itself is tested elsewhere.
Screenshots land in tests/screenshots/ (gitignored) for a human to look at.
"""

import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from factories import PASSWORD
from onboarding_helpers import BASIC, fill_everything, post_step, register, services, sign, submit
from playwright.sync_api import Page, expect

from qzt.core import clock
from qzt.core.calendar import work_calendar
from qzt.extensions import db
from qzt.models import Application, Role
from qzt.rules.calendar import to_beijing
from qzt.rules.uscc import with_check_digit

pytestmark = pytest.mark.browser

NAME = BASIC["name"]  # 佛山市顺德区家电检测技术有限公司, services in 检验检测
APPLICANT_PHONE = "13600000001"
OTHER = {
    **BASIC,
    "name": "佛山市禅城区长度计量校准有限公司",
    "uscc": with_check_digit("91440604MA5X0002Y"),
    "district": "chancheng",
}
OPERATOR = ("13911110001", "运维小王")
OPERATOR2 = ("13911110003", "运维小李")
AUTHORITY = ("13911110002", "质量发展科老陈")
WAITED_SINCE = 21  # calendar days the main application has been waiting


def _application(name: str) -> Application:
    db.session.expire_all()
    return db.session.scalar(db.select(Application).where(Application.name == name))


@pytest.fixture
def submitted(app):
    """Two submitted applications: ours (检验检测, waiting three weeks) and another (计量, from today)."""
    ours = app.test_client()
    register(ours, phone=APPLICANT_PHONE)
    fill_everything(ours)
    assert submit(ours).status_code == 302

    other = app.test_client()
    register(other, phone="13600000002")
    fill_everything(other)
    assert post_step(other, 1, OTHER).status_code == 302
    assert post_step(other, 3, services(category="metrology")).status_code == 302
    assert sign(other).status_code == 302
    assert submit(other).status_code == 302

    application = _application(NAME)
    application.submitted_at -= timedelta(days=WAITED_SINCE)
    db.session.commit()
    return application


@pytest.fixture
def staff(make_user):
    make_user(Role.OPERATOR, *OPERATOR)
    make_user(Role.OPERATOR, *OPERATOR2)
    make_user(Role.AUTHORITY, *AUTHORITY)


def _action(page: Page, label: str):
    """The fieldset of one review action, e.g. [建议通过] with its 理由, opened by its button."""
    _summary(page, label).click()
    return page.get_by_role("group", name=label)


def _summary(page: Page, label: str):
    return page.locator("summary", has_text=re.compile(f"^{label}"))


def _height(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def _state(page: Page):
    return page.locator(".facts dt", has_text="状态").locator("xpath=following-sibling::dd[1]")


def _fact(page: Page, name: str):
    term = page.locator(".facts dt", has_text=re.compile(f"^{name}$"))
    return term.locator("xpath=following-sibling::dd[1]")


def test_admission_from_screening_to_listing(people, live_server, submitted, staff, tmp_path):
    today = clock.today()
    calendar = work_calendar()
    waited = calendar.working_days_between(to_beijing(submitted.submitted_at).date(), today)
    assert waited > 0  # three weeks, even across the Spring Festival

    # 1. The operator: the queue, a filter, [领取], [要求补充材料].
    operator = people()
    page = operator.login(OPERATOR[0])
    operator.open("/staff/applications")
    expect(page.get_by_role("heading", level=1)).to_have_text("入驻申请")
    tabs = page.get_by_role("list", name="按状态")
    expect(tabs.locator("[aria-current=page]")).to_have_text(re.compile(r"待初审\s*2"))
    rows = page.locator("#queue-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(NAME)  # the oldest waiting first
    for cell in ("检验检测", "顺德区", "待初审", f"{waited} 个工作日", "—"):
        expect(rows.first).to_contain_text(cell)
    expect(rows.nth(1)).to_contain_text(OTHER["name"])
    expect(rows.nth(1)).to_contain_text("0 个工作日")
    operator.shoot("review-queue")

    page.evaluate("window.__stillHere = true")
    page.get_by_label("服务类别").select_option(label="计量")
    page.wait_for_url(re.compile(r"category=metrology"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(OTHER["name"])
    page.get_by_label("服务类别").select_option(label="检验检测")
    page.wait_for_url(re.compile(r"category=inspection"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(NAME)
    # The state tabs count under the chosen filters too, and keep them.
    expect(tabs.locator("[aria-current=page]")).to_have_text(re.compile(r"待初审\s*1"))
    expect(tabs.get_by_role("link", name=re.compile("待审定"))).to_have_attribute(
        "href", re.compile(r"category=inspection")
    )
    page.get_by_label("服务类别").select_option(label="认证认可")
    expect(page.locator("#queue-rows")).to_have_text("没有符合条件的申请。")
    page.get_by_label("服务类别").select_option(label="检验检测")
    expect(rows).to_have_count(1)
    assert page.evaluate("window.__stillHere") is True, "the filter reloaded the page instead of a swap"

    rows.first.get_by_role("link", name=NAME).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(_state(page)).to_contain_text("待初审")
    expect(_fact(page, "领取人")).to_have_text("未领取")
    page.get_by_role("button", name="领取").click()
    expect(page.get_by_role("status")).to_have_text("已领取该申请")
    expect(_fact(page, "领取人")).to_have_text(OPERATOR[1])
    expect(page.get_by_role("button", name="领取")).to_have_count(0)
    operator.shoot("review-application")

    request_info = _action(page, "要求补充材料")
    request_info.get_by_label("需要补充的材料").fill("请补充CNAS认可证书附表（能力范围）")
    request_info.get_by_label("补充期限（工作日）").fill("5")
    request_info.get_by_role("button", name="要求补充材料").click()
    expect(page.get_by_role("status")).to_have_text("已要求补充材料")
    expect(_state(page)).to_contain_text("待补充材料")
    deadline = calendar.add_working_days(today, 5)
    expect(_fact(page, "补充要求")).to_have_text(
        f"请补充CNAS认可证书附表（能力范围）（截止 {deadline.isoformat()}）"
    )
    log = page.locator("section", has=page.get_by_role("heading", name="操作记录")).locator("tbody tr")
    expect(log).to_have_count(3)
    expect(log.first).to_have_text(re.compile(r"提交申请\s*草稿 → 待初审\s*首次提交"))  # the applicant's own
    expect(log.nth(1)).to_have_text(re.compile(rf"{OPERATOR[1]}\s*领取\s*$"))
    expect(log.nth(2)).to_have_text(
        re.compile(rf"{OPERATOR[1]}\s*要求补充材料\s*待初审 → 待补充材料\s*请补充CNAS")
    )

    # 2. The applicant: the request in the wizard and among the notices; a change; a new signature.
    applicant = people()
    page = applicant.login(APPLICANT_PHONE)
    applicant.open("/onboarding")
    request = page.get_by_role("alert").filter(has_text="平台要求补充材料")
    expect(request).to_contain_text(f"请于 {deadline.isoformat()} 前重新提交")
    expect(request).to_contain_text("请补充CNAS认可证书附表（能力范围）")
    applicant.open("/notices")
    notice = page.locator(".notices li").filter(has_text="入驻申请需补充材料")
    expect(notice).to_contain_text("请补充CNAS认可证书附表（能力范围）")
    expect(notice).to_contain_text(f"{deadline:%Y年%m月%d日}")

    applicant.open("/onboarding")
    progress = page.get_by_role("navigation", name="申请进度")
    progress.get_by_role("link", name=re.compile("基本信息")).click()
    expect(page.get_by_label("详细地址")).to_have_value(BASIC["address"])
    page.get_by_label("详细地址").fill("大良街道新城区8号")
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_role("heading", name="执照与资质")).to_be_visible()
    # The summary first (what is signed is what was reviewed), then the pledge.
    progress.get_by_role("link", name=re.compile("核对资料")).click()
    expect(page.locator(".summary")).to_contain_text("大良街道新城区8号")
    page.get_by_role("button", name="确认无误，下一步").click()
    page.get_by_label("签署人姓名").fill("张三")
    page.get_by_label("登录密码").fill(PASSWORD)
    page.get_by_label("我已阅读并同意承诺书").check()
    page.get_by_role("button", name="签署承诺书").click()
    expect(page.get_by_role("status")).to_have_text("承诺书已签署")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("status")).to_have_text("入驻申请已提交，请留意审核通知")
    expect(page.locator(".facts")).to_contain_text("待初审")

    # 3. The operator: what changed, then [建议通过].
    page = operator.page
    page.reload()
    expect(_state(page)).to_contain_text("待初审")
    expect(_fact(page, "提交时间")).to_contain_text("第 2 次提交")
    changes = page.locator("section", has=page.get_by_role("heading", name="与上次提交相比的修改"))
    expect(changes.locator("tbody tr")).to_have_count(1)
    expect(changes.locator("tbody tr")).to_have_text(
        re.compile(r"basic\.address\s*大良街道新城区1号\s*大良街道新城区8号")
    )
    recommend = _action(page, "建议通过")
    recommend.get_by_label("理由").fill("资质齐全，信用中国已核查无不良记录")
    recommend.get_by_role("button", name="建议通过").click()
    expect(_state(page)).to_contain_text("待审定")
    expect(_fact(page, "运维机构意见")).to_have_text("建议通过：资质齐全，信用中国已核查无不良记录")

    # Someone looks for it before the decision (and the anonymous directory page may be cached).
    visitor = people()
    page = visitor.open(f"/directory?q={NAME}")
    expect(page.locator("#results")).to_contain_text("共找到 0 家机构")

    # 4. The authority: 待审定, [批准入驻].
    authority = people()
    page = authority.login(AUTHORITY[0])
    authority.open("/staff/applications")
    page.get_by_role("list", name="按状态").get_by_role("link", name=re.compile("待审定")).click()
    expect(page.locator("#queue-rows tbody tr")).to_have_count(1)
    page.locator("#queue-rows").get_by_role("link", name=NAME).click()
    expect(_state(page)).to_contain_text("待审定")
    expect(page.get_by_role("group", name="建议通过")).to_have_count(0)  # not the authority's to recommend
    _action(page, "批准入驻").get_by_label("理由").fill("同意入驻")
    page.get_by_role("button", name="批准入驻").click()
    expect(page.get_by_role("status")).to_have_text("已批准入驻")
    expect(_state(page)).to_contain_text("已通过")
    expect(page.get_by_role("heading", name="审核操作")).to_have_count(0)

    # 5. Listed: the directory, the API, the homepage; the applicant is told.
    institution_id = _application(NAME).institution_id
    page = visitor.page
    page.reload()
    results = page.locator("#results")
    expect(results.get_by_role("heading", level=2)).to_have_text([NAME])
    results.get_by_role("link", name=NAME).click()
    expect(page).to_have_url(f"{live_server}/institutions/{institution_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.get_by_role("main")).to_contain_text("家电检测项目0")
    response = page.request.get(f"{live_server}/api/v1/institutions", params={"q": NAME})
    assert response.ok
    body = response.json()
    assert body["total"] == 1 and [(i["id"], i["name"]) for i in body["items"]] == [(institution_id, NAME)]

    page = applicant.open("/onboarding")
    expect(page.locator(".facts")).to_contain_text("已通过")
    expect(page.get_by_role("link", name="查看机构主页")).to_be_visible()
    applicant.open("/notices")
    expect(page.locator(".notices li").filter(has_text="入驻申请已通过")).to_contain_text(NAME)

    # 6. The signed pledge as a PDF, from the staff page.
    page = operator.page
    page.reload()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载承诺书PDF").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = tmp_path / "pledge.pdf"
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert NAME in re.sub(r"\s+", "", text)


def test_two_operators_claim_the_same_application(people, submitted, staff):
    first, second = people(), people()
    path = f"/staff/applications/{submitted.id}"
    for person, (phone, _name) in ((first, OPERATOR), (second, OPERATOR2)):
        person.login(phone)
        expect(person.open(path).get_by_role("button", name="领取")).to_be_visible()

    first.page.get_by_role("button", name="领取").click()
    expect(_fact(first.page, "领取人")).to_have_text(OPERATOR[1])

    page = second.page  # still showing the application as unclaimed
    expect(_fact(page, "领取人")).to_have_text("未领取")
    with page.expect_response(lambda r: r.url.endswith("/claim")) as answer:
        page.get_by_role("button", name="领取").click()
    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("其他工作人员")
    # The page now shows the application as it stands.
    expect(_fact(page, "领取人")).to_have_text(OPERATOR[1])
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.get_by_role("button", name="领取")).to_have_count(0)  # pressing it again could only fail
    second.shoot("review-conflict")
    assert _application(NAME).assignee.name == OPERATOR[1]


# Before the actions were folded into buttons the page was 3,462 px at 1280 px and 4,320 px at 390 px.
MAX_HEIGHT = {390: 3_200, 1280: 2_500}


def test_actions_are_buttons_that_open_one_form_at_a_time(people, submitted, staff):
    operator = people()
    page = operator.login(OPERATOR[0])
    operator.open(f"/staff/applications/{submitted.id}")
    page.get_by_role("button", name="领取").click()
    expect(page.get_by_role("status")).to_have_text("已领取该申请")
    actions = page.locator("details.review-action")
    expect(actions).to_have_count(4)
    expect(page.locator("details.review-action[open]")).to_have_count(0)
    expect(page.get_by_label("理由")).to_have_count(2)
    for label in ("要求补充材料", "安排实地调查", "建议通过", "建议不予通过"):
        expect(_summary(page, label)).to_be_visible()
        expect(page.get_by_role("group", name=label)).to_be_hidden()
    for width, most in MAX_HEIGHT.items():
        page.set_viewport_size({"width": width, "height": 900})
        assert _height(page) < most, f"{_height(page)} px at {width} px"
    operator.shoot("review-actions-collapsed")

    recommend = _action(page, "建议通过")
    expect(recommend).to_be_visible()
    expect(recommend.get_by_label("理由")).to_be_focused()
    rejection = _action(page, "建议不予通过")
    expect(rejection).to_be_visible()
    expect(recommend).to_be_hidden()  # opening one closed the other
    expect(page.locator("details.review-action[open]")).to_have_count(1)
    operator.shoot("review-actions-open")

    # An empty reason: the message beside the field, that form open again, the field focused.
    recommend = _action(page, "建议通过")
    with page.expect_response(lambda r: r.url.endswith("/recommend_approval")) as answer:
        recommend.get_by_role("button", name="建议通过").click()
    assert answer.value.status == 422
    recommend = page.get_by_role("group", name="建议通过")
    expect(recommend).to_be_visible()
    reason = recommend.get_by_label("理由")
    expect(reason).to_be_focused()
    expect(reason).to_have_attribute("aria-invalid", "true")
    beside = recommend.locator(".field-error")
    expect(beside).to_have_text("请填写建议理由")
    box, field = beside.bounding_box(), reason.bounding_box()
    assert 0 <= box["y"] - (field["y"] + field["height"]) < 40  # right under the field
    expect(page.get_by_role("group", name="建议不予通过")).to_be_hidden()
    operator.shoot("review-actions-error")
    reason.fill("资质齐全")
    recommend.get_by_role("button", name="建议通过").click()
    expect(_state(page)).to_contain_text("待审定")
    # Chromium logs the 422 document as an error: it is the expected answer here.
    operator.problems = [p for p in operator.problems if "422" not in p]


def test_the_demo_fills_the_staff_queue(people, runner, staff):
    result = runner.invoke(args=["qzt", "demo", "--count", "12"])
    assert result.exit_code == 0, result.output
    operator = people()
    page = operator.login(OPERATOR[0])
    operator.open("/staff/applications")
    tabs = page.get_by_role("list", name="按状态").get_by_role("link")
    expect(tabs).to_have_count(7)
    for text in tabs.all_inner_texts():
        assert re.search(r"\s[1-9]\d*$", text.strip()), text
    expect(page.locator("#queue-rows tbody tr").first).to_be_visible()
    operator.shoot("review-queue-demo")
    page.get_by_role("list", name="按状态").get_by_role("link", name=re.compile("待补充材料")).click()
    page.locator("#queue-rows tbody tr a").first.click()
    expect(_state(page)).to_contain_text("待补充材料")
    expect(_fact(page, "补充要求")).to_contain_text("截止")
    viewed = page.get_by_role("link", name="查看营业执照.pdf")
    expect(viewed).to_have_attribute("target", "_blank")
    response = page.request.get(operator.base + viewed.get_attribute("href"))
    assert response.headers["content-disposition"].startswith("inline")
    operator.shoot("review-application-demo")
