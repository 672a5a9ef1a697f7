"""[转交] in a real browser (security issue 8): a second operator opens an application another operator
has claimed, sees who holds it and since when, has no decision buttons, and takes it over with a reason
that the history then shows. Screenshots land in tests/screenshots/ (gitignored)."""

import re

import pytest
from playwright.sync_api import Page, expect

from qzt.extensions import db
from qzt.models import Role
from qzt.review import services

pytestmark = pytest.mark.browser

WANG = ("13911110001", "运维小王")
LI = ("13911110003", "运维小李")


def _fact(page: Page, name: str):
    term = page.locator(".facts dt", has_text=re.compile(f"^{name}$"))
    return term.locator("xpath=following-sibling::dd[1]")


def test_a_second_operator_takes_a_claimed_application_over(people, make_user, make_application):
    wang, _li = make_user(Role.OPERATOR, *WANG), make_user(Role.OPERATOR, *LI)
    application = make_application()
    services.claim(application, wang, application.version)
    db.session.commit()

    li = people()
    page = li.login(LI[0])
    li.open(f"/staff/applications/{application.id}")
    expect(_fact(page, "领取人")).to_have_text(WANG[1])
    expect(_fact(page, "领取时间")).to_contain_text("北京时间")
    expect(page.locator(".flash-warning")).to_contain_text("只有领取人或质量发展科可以处理")
    expect(page.get_by_role("heading", name="审核操作")).to_have_count(0)
    transfer = page.get_by_role("group", name="转交")
    expect(transfer).to_be_hidden()  # a button that opens the form
    page.locator("summary", has_text="转交").click()
    expect(transfer.get_by_role("button", name="转交")).to_be_visible()
    li.shoot("review-claimed-by-another")

    transfer.get_by_label("转交原因").fill("小王休假，由我接手")
    transfer.get_by_role("button", name="转交").click()
    expect(page.get_by_role("status")).to_have_text("已转交，该申请现由您处理")
    expect(_fact(page, "领取人")).to_have_text(LI[1])
    expect(page.get_by_role("group", name="转交")).to_have_count(0)
    expect(page.get_by_role("heading", name="审核操作")).to_be_visible()
    log = page.locator("section", has=page.get_by_role("heading", name="操作记录")).locator("tbody tr")
    expect(log.last).to_have_text(
        re.compile(rf"{LI[1]}\s*转交\s*领取人：{WANG[1]} → {LI[1]}\s*小王休假，由我接手")
    )
    li.shoot("review-transferred")
