"""The annual assessment in a real browser (Art. 16–17, Annex 2), on the platform clock: an institution
admitted 19 months ago with a year of records; `qzt assessments open`; the operator overrides an item with
a reason and submits; the authority confirms; the sheet downloads as a PDF; the institution sees its
result; a batch of the cycle prints with a progress bar while the worker (`qzt tick`) builds it."""

import subprocess
from datetime import date

import pytest
from playwright.sync_api import expect
from test_assessments import at, complaint, consult

from qzt.extensions import db
from qzt.models import Role

pytestmark = pytest.mark.browser

NAME = "佛山市南海区灯具检测技术有限公司"
OWNER, ENTERPRISE, OPERATOR, AUTHORITY = "13700000002", "13600000009", "13700000004", "13700000005"


@pytest.fixture
def admitted_19_months_ago(app, make_institution, make_user):
    """Admitted 2025-01-06; cycle 1 (2025-07-06 to 2026-07-05) holds 4 substantiated complaints, a
    Saturday question answered after 7 hours and no case report; the introduction is short."""
    owner = make_user(Role.INSTITUTION, phone=OWNER, name="机构账号")
    client = make_user(Role.ENTERPRISE, phone=ENTERPRISE, name="佛山市某灯饰企业")
    inst = make_institution(
        NAME,
        introduction="灯具检测",
        services=[
            ("inspection", "灯具安全检测", "GB 7000系列", True),
            ("inspection", "能效检测", "能效", True),
        ],
        qualifications=[("CMA资质认定证书", date(2028, 12, 31))],
        agents=[("陈客服", "13812345670")],
        opened_on=date(2025, 1, 6),
    )
    inst.owner_id = owner.id
    for filed in ("2025-08-01T09:00", "2025-10-01T09:00", "2026-01-05T09:00", "2026-03-02T09:00"):
        complaint(inst, client, filed)
    consult(inst, client, "2026-03-07T10:00", "2026-03-07T17:00")
    for n in range(3):
        make_institution(f"佛山市同期入驻第{n + 1}检测所", opened_on=date(2025, 1, 6))
    make_user(Role.OPERATOR, phone=OPERATOR, name="运维小王")
    make_user(Role.AUTHORITY, phone=AUTHORITY, name="质量发展科老陈")
    db.session.commit()
    app.config["QZT_CLOCK"] = at("2026-08-06T10:00").isoformat()
    return inst


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout


def test_art16_assessment_from_opening_to_print_in_the_browser(app, people, admitted_19_months_ago, tmp_path):
    runner = app.test_cli_runner()
    assert "新生成考核评分表4份" in runner.invoke(args=["qzt", "assessments", "open"]).output

    # The operator reviews: item 3 (the introduction) was completed before the cycle ended.
    operator = people()
    page_o = operator.login(OPERATOR)
    operator.open("/staff/assessments?number=1")
    page_o.get_by_role("link", name=NAME).click()
    expect(page_o.locator("#item-2")).to_contain_text("周期内查实投诉4件")
    item3 = page_o.locator("#item-3")
    expect(item3).to_contain_text("机构简介4字，不足20字")
    item3.get_by_label("否").check()
    item3.get_by_label("理由（改变系统预填结果时必填）").fill("简介已于2026年6月补充完整，见主页修改记录")
    page_o.locator("#item-5").get_by_label("否").check()  # a judgement: the items are written to the norm
    operator.shoot("assessment-review")
    page_o.get_by_role("button", name="提交审定").click()
    expect(page_o.get_by_text("已提交管理单位审定")).to_be_visible()
    sheet_url = page_o.url

    # The authority confirms: 100 − 20 (complaints) − 10 (replies) − 10 (cases) − 10 (orders) = 50.
    authority = people()
    page_a = authority.login(AUTHORITY)
    page_a.goto(sheet_url)
    expect(page_a.locator("#decide")).to_contain_text("确认后得分为 50分（不合格）")
    page_a.get_by_role("button", name="确认考核结果").click()
    expect(page_a.get_by_text("考核结果已确认：50分，不合格")).to_be_visible()
    expect(page_a.get_by_role("link", name="决定清退")).to_be_visible()  # Art. 17: a failed assessment
    with page_a.expect_download(timeout=30_000) as download:  # WeasyPrint loads its fonts on first use
        page_a.get_by_role("link", name="下载考核评分表PDF").click()
    pdf = tmp_path / "sheet.pdf"
    download.value.save_as(pdf)
    text = pdftotext(pdf)
    assert NAME in text and "☑不合格" in text.replace(" ", "") and text.count("☑") == 11

    # The institution sees its result.
    owner = people()
    page_i = owner.login(OWNER)
    owner.open("/workbench")
    page_i.get_by_role("link", name="年度考核").click()
    results = page_i.locator("#results")
    expect(results).to_contain_text("50分")
    expect(results).to_contain_text("不合格")
    expect(results).to_contain_text("周期内查实投诉4件")
    expect(results).to_contain_text("运维核实：简介已于2026年6月补充完整")
    owner.shoot("assessment-institution")

    # A batch of the cycle: queued, built by the worker while the page polls, downloaded.
    operator.open("/staff/assessments?number=1")
    page_o.get_by_role("button", name="批量打印（4份）").click()
    expect(page_o.locator("#print-progress")).to_contain_text("排队中")
    page_o.reload()  # the job survives a reload
    expect(page_o.locator("#print-progress")).to_contain_text("共 4 份")
    assert "完成1个" in runner.invoke(args=["qzt", "tick"]).output
    link = page_o.get_by_role("link", name="下载考核评分表PDF（4份）")
    expect(link).to_be_visible(timeout=10_000)  # htmx's next poll shows it
    with page_o.expect_download() as batch:
        link.click()
    all_sheets = tmp_path / "batch.pdf"
    batch.value.save_as(all_sheets)
    assert pdftotext(all_sheets).count("入驻机构考核评分表（试行）") == 4
