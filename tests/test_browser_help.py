"""Help and trust in a real browser: a number that already has an account is offered [登录] and [忘记密码]
once its SMS code is proved, and the login page opens with the number filled in; the footer carries the
hotline and the filing numbers. Screenshots: register-number-taken, login-prefilled (tests/screenshots/)."""

import pytest
from browser import Person, prove_number
from factories import PASSWORD
from playwright.sync_api import expect
from test_help_and_trust import FOOTER, TAKEN

from qzt.models import Role

pytestmark = pytest.mark.browser


def test_a_registered_number_is_offered_login_and_password_reset(app, browser, live_server, make_user):
    app.config.update(FOOTER)
    make_user(Role.ENTERPRISE, phone=TAKEN)
    person = Person(browser, live_server)
    page = person.open("/register")
    page.get_by_label("企业用户").check()
    page.get_by_label("企业名称").fill("佛山市顺德区测试电器有限公司")
    page.get_by_label("手机号码").fill(TAKEN)
    prove_number(page)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.get_by_label("我已阅读并同意《隐私政策》").check()
    page.get_by_role("button", name="注册", exact=True).click()

    offer = page.get_by_role("alert").filter(has_text="已注册")
    expect(offer).to_contain_text(f"手机号码 {TAKEN} 已注册")
    expect(offer.get_by_role("link", name="忘记密码")).to_have_attribute(
        "href", f"/password/forgot?phone={TAKEN}"
    )
    footer = page.locator(".site-footer")
    expect(footer).to_contain_text("联系我们：平台运维机构服务热线 0757-83030000")
    expect(footer.get_by_role("link", name="粤ICP备12345678号")).to_have_attribute(
        "href", "https://beian.miit.gov.cn/"
    )
    person.shoot("register-number-taken")

    offer.get_by_role("link", name="登录").click()
    expect(page.get_by_label("手机号码")).to_have_value(TAKEN)
    person.shoot("login-prefilled")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    person.context.close()
    # The refused registration answers 422 (no account was made), which Chromium logs; nothing else may.
    assert [p for p in person.problems if "status of 422" not in p] == []
