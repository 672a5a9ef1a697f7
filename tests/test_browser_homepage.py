"""Homepage upkeep in a real browser (Art. 13): a listed institution changes its introduction, live at
once, and uploads a new certificate, live after the operator accepts it."""

import pytest
from onboarding_helpers import PDF
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

OWNER, OPERATOR = "13700000002", "13700000004"


def test_an_introduction_goes_live_at_once_and_a_certificate_after_review(
    people, owned_institution, tmp_path
):
    homepage = f"/institutions/{owned_institution.id}"
    owner = people()
    page = owner.login(OWNER)
    page.get_by_role("link", name="机构主页维护").click()
    page.get_by_label("机构简介").fill(
        "专业从事家用电器安全、能效检验检测，具备CMA和CNAS资质，服务顺德家电产业二十年。"
    )
    page.get_by_role("button", name="保存并公示").click()
    expect(page.get_by_text("机构主页已更新")).to_be_visible()
    owner.shoot("homepage-upkeep")

    visitor = people()
    visitor.open(homepage)
    expect(visitor.page.get_by_text("服务顺德家电产业二十年")).to_be_visible()

    pdf = tmp_path / "cma.pdf"
    pdf.write_bytes(PDF)
    page.get_by_label("证书名称").fill("检验检测机构资质认定证书")
    page.get_by_label("证书编号").fill("201919000077")
    page.get_by_label("发证机构").fill("广东省市场监督管理局")
    page.get_by_label("有效期至").fill("2029-06-30")
    page.get_by_label("证书文件").set_input_files(str(pdf))
    page.get_by_role("button", name="提交资质证书").click()
    expect(page.get_by_text("变更已提交")).to_be_visible()
    visitor.open(homepage)
    expect(visitor.page.get_by_text("201919000077")).to_have_count(0)

    operator = people()
    page = operator.login(OPERATOR)
    page.get_by_role("link", name="变更审核").click()
    expect(page.get_by_text("201919000077")).to_be_visible()
    operator.shoot("homepage-changes")
    page.get_by_role("button", name="通过变更").click()
    expect(page.get_by_text("已通过变更")).to_be_visible()
    visitor.open(homepage)
    expect(visitor.page.get_by_text("201919000077")).to_be_visible()
