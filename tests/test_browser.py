"""The directory in a real browser (Debian's Chromium through Playwright), with and without JavaScript.

The app runs in a werkzeug server thread on the test database, so these tests see what a user on a
phone sees: htmx swapping results in place, the back button, the no-JS fallback, the strict CSP.
Screenshots land in tests/screenshots/ (gitignored) for a human to look at.
"""

import re
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from browser import DESKTOP, PHONE, SCREENSHOTS, TIMEOUT_MS
from factories import PASSWORD
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from qzt.core import clock
from qzt.models import Role

pytestmark = pytest.mark.browser

CALIBRATION = ("metrology", "长度计量校准", "卡尺、千分尺、量块等长度计量器具校准。", True)
THERMAL = ("metrology", "热工计量校准", "温度计、热电偶校准。", False)
ELECTRICAL = ("inspection", "电子电器检验检测", "家用电器安全、电磁兼容（EMC）检验检测。", True)
CNAS = ("certification", "CNAS 认可咨询", "协助实验室建立管理体系并申请 CNAS 认可。", False)
SHUNDE_LABS = 22  # more than one page of 20 on their own
ALL = SHUNDE_LABS + 4


@pytest.fixture
def directory(make_institution):
    """A small directory: one institute with everything on its homepage, and enough labs to page through."""
    institute = make_institution(
        "佛山市计量检测研究院",
        district="chancheng",
        introduction="市级法定计量检定机构，提供长度、热工、力学等计量校准服务。\n同时开展电子电器产品检验检测。",
        services=[CALIBRATION, ELECTRICAL, THERMAL, CNAS],
        qualifications=[
            ("CNAS 实验室认可证书", clock.today() + timedelta(days=400)),
            ("检验检测机构资质认定证书（CMA）", clock.today() - timedelta(days=30)),
        ],
        agents=[("陈工", "13800138001"), ("李工", "13900139002")],
    )
    make_institution("顺德区家电检验检测中心", district="shunde", services=[ELECTRICAL, CNAS])
    standards = ("standards", "企业标准制修订咨询", "", True)
    make_institution("南海区标准化技术服务有限公司", district="nanhai", services=[standards])
    # Mentions 计量 only in its introduction: found by 计量, dropped by the 计量 category.
    make_institution(
        "禅城区产品质量检验所",
        district="chancheng",
        introduction="兼营计量器具送检代办。",
        services=[("inspection", "纺织品检验", "", True)],
    )
    labs = [
        make_institution(f"顺德区计量校准服务站（第{n:02d}站）", district="shunde", services=[CALIBRATION])
        for n in range(1, SHUNDE_LABS + 1)
    ]
    return {"institute": institute, "labs": labs}


def _url(base: str, **params: str) -> str:
    """A directory URL as the browser shows it: the filters in form order, percent-encoded UTF-8."""
    return f"{base}/directory?{urlencode(params, quote_via=quote)}" if params else f"{base}/directory"


def _expect_directory_url(page: Page, /, **params: str) -> None:
    """Wait until the address bar shows /directory with exactly these parameters, in any order."""
    want = {name: [value] for name, value in params.items()}

    def matches(url: str) -> bool:
        parts = urlsplit(url)
        return parts.path == "/directory" and parse_qs(parts.query) == want

    page.wait_for_url(matches)


def _names(page: Page) -> list[str]:
    """The institution names in the result list, in order."""
    return page.locator("#results").get_by_role("heading", level=2).all_inner_texts()


def test_search_filter_back_and_page_without_reloading(page: Page, live_server, directory):
    page.goto(_url(live_server))
    results = page.locator("#results")
    expect(results).to_contain_text(f"共找到 {ALL} 家机构")
    # A full page load would lose this; htmx swaps and history restores keep it.
    page.evaluate("window.__stillHere = true")

    page.get_by_label("关键词").press_sequentially("计量")
    _expect_directory_url(page, q="计量")
    expect(results).to_contain_text("“计量” 共找到 24 家机构，第 1 / 2 页")
    assert "南海区标准化技术服务有限公司" not in _names(page)

    page.get_by_label("服务类别").select_option(label="计量")
    _expect_directory_url(page, q="计量", category="metrology")
    expect(results).to_contain_text("共找到 23 家机构")
    assert "禅城区产品质量检验所" not in _names(page)

    page.get_by_label("所在区").select_option(label="顺德区")
    _expect_directory_url(page, q="计量", category="metrology", district="shunde")
    expect(results).to_contain_text(f"共找到 {SHUNDE_LABS} 家机构，第 1 / 2 页")
    first_page = _names(page)
    assert len(first_page) == 20 and "佛山市计量检测研究院" not in first_page

    results.get_by_role("link", name="下一页").click()
    _expect_directory_url(page, q="计量", category="metrology", district="shunde", page="2")
    expect(results).to_contain_text("第 2 / 2 页")
    second_page = _names(page)
    assert len(second_page) == SHUNDE_LABS - 20 and not set(second_page) & set(first_page)
    # The pager sits below 20 cards: the new page starts at the top of the results, announced.
    expect(page.locator("#result-count")).to_be_focused()
    expect(page.locator("#result-count")).to_be_in_viewport()

    page.go_back()
    expect(results).to_contain_text("第 1 / 2 页")
    assert _names(page) == first_page
    page.go_back()
    _expect_directory_url(page, q="计量", category="metrology")
    expect(results).to_contain_text("共找到 23 家机构")
    expect(page.get_by_label("所在区")).to_have_value("")
    expect(page.get_by_label("服务类别")).to_have_value("metrology")
    expect(page.get_by_label("关键词")).to_have_value("计量")
    assert page.evaluate("window.__stillHere") is True, "the page was reloaded instead of swapped"

    # The whole card opens the homepage, not only the name: tap its lower right corner.
    card = results.get_by_role("listitem").filter(has_text="佛山市计量检测研究院")
    box = card.bounding_box()
    card.click(position={"x": box["width"] - 12, "y": box["height"] - 12})
    expect(page).to_have_url(f"{live_server}/institutions/{directory['institute'].id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("佛山市计量检测研究院")
    expect(page.get_by_role("main")).to_contain_text("长度计量校准")
    expect(page.get_by_role("row", name=re.compile("CMA"))).to_contain_text("已过期")
    expect(page.get_by_role("row", name=re.compile("CNAS"))).not_to_contain_text("已过期")


def test_search_works_without_javascript(browser: Browser, live_server, directory):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(live_server)
        page.get_by_label("搜索机构或服务").fill("计量")
        page.get_by_role("button", name="搜索").click()
        _expect_directory_url(page, q="计量")
        expect(page.locator("#results")).to_contain_text("“计量” 共找到 24 家机构")

        page.get_by_label("服务类别").select_option(label="计量")
        page.get_by_label("所在区").select_option(label="顺德区")
        page.get_by_role("button", name="搜索").click()
        # Without site.js nothing drops empty fields; here none is empty.
        _expect_directory_url(page, q="计量", category="metrology", district="shunde")
        expect(page.locator("#results")).to_contain_text(f"共找到 {SHUNDE_LABS} 家机构，第 1 / 2 页")
        assert len(_names(page)) == 20

        page.get_by_role("link", name="下一页").click()
        expect(page.locator("#results")).to_contain_text("第 2 / 2 页")
        expect(page.get_by_label("所在区")).to_have_value("shunde")
        assert len(_names(page)) == SHUNDE_LABS - 20

        page.get_by_role("link", name="顺德区计量校准服务站（第22站）").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("顺德区计量校准服务站（第22站）")
    finally:
        context.close()


def _watch_console(page: Page, expected_404: str) -> list[str]:
    """Console errors (Chromium reports CSP violations there) and uncaught exceptions."""
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        if msg.location.get("url") == expected_404 and "status of 404" in msg.text:
            return  # the one page we asked for knowing it is missing
        problems.append(f"{page.url}: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    return problems


def test_pages_have_no_console_errors_or_csp_violations(page: Page, live_server, directory):
    missing = f"{live_server}/no-such-page"
    problems = _watch_console(page, missing)
    institute = directory["institute"]
    for url, status in [
        (live_server + "/", 200),
        (_url(live_server), 200),
        (f"{live_server}/institutions/{institute.id}", 200),
        (f"{live_server}/login", 200),
        (missing, 404),
    ]:
        response = page.goto(url)
        assert response.status == status, url
        assert "unsafe-inline" not in response.headers["content-security-policy"]

    page.goto(_url(live_server))
    page.get_by_label("关键词").fill("计量")
    expect(page.locator("#results")).to_contain_text("“计量” 共找到")
    page.get_by_label("服务类别").select_option(label="检验检测")
    expect(page.locator("#results")).to_contain_text("共找到 2 家机构")
    page.wait_for_load_state("networkidle")
    assert not problems, "\n".join(problems)


SMALL_TARGETS = """() => [...document.querySelectorAll(
      'header a, header button, main button, main input, main select, main .button,'
      + ' .pager a, .tile, .hot-searches a, .crumbs a')]
    .filter(el => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
    // A checkbox or radio button counts through its label, which is the target.
    .filter(el => !((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length))
    .map(el => `${el.tagName} ${el.textContent.trim() || el.name}: ${el.getBoundingClientRect().height}px`)"""

# Boxes whose content is wider than they are and not clipped: it runs into its neighbours.
SPILLING = """() => [...document.querySelectorAll('header *, main *, footer *')]
    .filter(el => {
      const style = getComputedStyle(el);
      if (el.offsetParent === null || style.display === 'inline') return false;
      if (style.overflowX !== 'visible' || el.scrollWidth <= el.clientWidth + 1) return false;
      for (let p = el.parentElement; p; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== 'visible') return false;
      }
      return true;
    })
    .map(el => `${el.tagName}.${el.className}: ${el.scrollWidth}px in ${el.clientWidth}px`)"""


def _layout_problems(page: Page) -> list[str]:
    """What a phone user would notice: sideways scrolling, text running into its neighbours, small targets."""
    problems = []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        problems.append(f"{page.url} scrolls sideways by {overflow}px")
    problems += [f"{page.url}: content wider than its box: {s}" for s in page.evaluate(SPILLING)]
    problems += [f"{page.url}: tap target under 44px: {s}" for s in page.evaluate(SMALL_TARGETS)]
    return problems


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_screenshots(browser: Browser, live_server, directory, make_user, viewport):
    """Pages at phone and desktop width, saved for a human to look at, and checked for layout faults."""
    SCREENSHOTS.mkdir(exist_ok=True)
    size = PHONE if viewport == "phone" else DESKTOP
    context = browser.new_context(viewport=size, locale="zh-CN", device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    problems = []
    try:
        page = context.new_page()
        pages = {
            "home": (live_server + "/", 200),
            "directory": (_url(live_server, q="计量"), 200),
            "institution": (f"{live_server}/institutions/{directory['institute'].id}", 200),
            "login": (f"{live_server}/login", 200),
            "404": (f"{live_server}/no-such-page", 404),
        }
        for name, (url, status) in pages.items():
            assert page.goto(url).status == status, url
            page.screenshot(path=SCREENSHOTS / f"{name}-{viewport}.png", full_page=True)
            problems += _layout_problems(page)

        # Signed in, the header also holds the user's name and 退出: it must still fit.
        make_user(Role.OPERATOR, phone="13900001111", name="平台运维张小明")
        page.goto(f"{live_server}/login")
        page.get_by_label("手机号码").fill("13900001111")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("navigation", name="主导航")).to_contain_text("平台运维张小明")
        expect(page.get_by_role("button", name="退出")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"home-signed-in-{viewport}.png", full_page=True)
        problems += _layout_problems(page)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
