"""WeChat's in-app browser at 390 px (issue 16): the login page offers [微信一键登录]; the first time the
number is proved by SMS code, later WeChat logs in by itself. WeChat's servers are the local fake
(tests/wechat_fake.py); the browser only differs by its user agent, as WeChat's does."""

import factories
import pytest
import wechat_fake
from browser import PHONE, SCREENSHOTS, TIMEOUT_MS, prove_number
from playwright.sync_api import Browser, expect
from test_browser_onboarding import layout_problems, log_in, write_pdf
from test_wechat import QUALIFICATION, WECHAT_UA

from qzt.core import files
from qzt.models import ApplicationState, Role

pytestmark = pytest.mark.browser

PHONE_NUMBER = "13800138000"


@pytest.fixture
def fake(app):
    with wechat_fake.running(app) as fake:
        yield fake


def _in_wechat(browser: Browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", user_agent=WECHAT_UA, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"{page.url}: {msg.text}"))
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    return context, page, problems


def test_wechat_login_at_phone_width(browser: Browser, live_server, fake, make_user):
    make_user(Role.ENTERPRISE, PHONE_NUMBER, name="企业小张")
    SCREENSHOTS.mkdir(exist_ok=True)
    context, page, problems = _in_wechat(browser)

    page.goto(f"{live_server}/login?next=/notices")
    button = page.get_by_role("link", name="微信一键登录")
    expect(button).to_be_visible()
    assert layout_problems(page, "login", phone=True) == []
    page.screenshot(path=SCREENSHOTS / "wechat-login-phone.png", full_page=True)

    button.click()  # to the fake's authorize page, which comes straight back
    expect(page.get_by_role("heading", name="绑定微信")).to_be_visible()
    page.get_by_label("手机号码").fill(PHONE_NUMBER)
    prove_number(page)
    assert layout_problems(page, "bind", phone=True) == []
    page.screenshot(path=SCREENSHOTS / "wechat-bind-phone.png", full_page=True)
    page.get_by_role("button", name="绑定并登录").click()
    expect(page.get_by_text("已绑定微信，以后在微信中打开佛山企质通会自动登录")).to_be_visible()
    assert page.url.split("#")[0] == f"{live_server}/notices"  # WeChat's #wechat_redirect may stay

    page.goto(f"{live_server}/account")
    expect(page.get_by_role("button", name="解除微信绑定")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "wechat-account-phone.png", full_page=True)
    context.close()

    # Later, a menu link in a fresh WeChat session: logged in without typing.
    context, page, more = _in_wechat(browser)
    page.goto(f"{live_server}/wechat/login?next=/notices")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    assert page.url.split("#")[0] == f"{live_server}/notices"  # WeChat's #wechat_redirect may stay
    context.close()
    assert problems + more == []


def test_uploads_and_the_pledge_pdf_inside_wechat_at_phone_width(browser: Browser, live_server, tmp_path):
    """The wizard's upload step offers the album and camera (and 文件 for PDFs); the pledge PDF says how
    to open it where WeChat cannot."""
    SCREENSHOTS.mkdir(exist_ok=True)
    drafting = factories.make_user(Role.INSTITUTION, "13600000001", name="机构小李")
    pdf = write_pdf(tmp_path / "licence.pdf").read_bytes()
    licence = files.store_bytes(drafting, "licence", pdf, "营业执照.pdf")
    data = factories.application_data(licence_file_id=licence.id, qualifications=[QUALIFICATION])
    factories.make_application(drafting, state=ApplicationState.DRAFT, signed=False, data=data)
    factories.make_application(factories.make_user(Role.INSTITUTION, "13600000002", name="机构小王"))

    context, page, problems = _in_wechat(browser)
    log_in(page, live_server, "13600000001")
    page.goto(f"{live_server}/onboarding/step/2")
    for name in ("licence", "q-0-file"):
        upload = page.locator(f"input[type=file][name='{name}']")
        assert upload.get_attribute("accept") == "application/pdf,image/jpeg,image/png"
        assert upload.get_attribute("capture") is None
    expect(page.locator("#licence-msg")).to_contain_text("图片可从相册选择或拍照上传；PDF请从“文件”中选择")
    expect(page.locator(".current-file .wechat-hint")).to_contain_text("选择“在浏览器打开”后下载")
    assert layout_problems(page, "upload step", phone=True) == []
    page.screenshot(path=SCREENSHOTS / "wechat-upload-phone.png", full_page=True)
    context.close()

    context, page, more = _in_wechat(browser)
    log_in(page, live_server, "13600000002")
    page.goto(f"{live_server}/onboarding")
    expect(page.get_by_role("link", name="下载承诺书PDF")).to_be_visible()
    hint = page.locator(".pledge-links + .wechat-hint")
    expect(hint).to_have_text("如无法打开，请点击右上角“···”，选择“在浏览器打开”后下载")
    assert layout_problems(page, "status", phone=True) == []
    page.screenshot(path=SCREENSHOTS / "wechat-pledge-pdf-phone.png", full_page=True)
    context.close()
    assert problems + more == []
