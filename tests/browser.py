"""Browser fixtures shared by the browser tests: Debian's Chromium through Playwright, and the app
served from a thread on the test database."""

import re
import threading
from pathlib import Path

import pytest
from factories import PASSWORD
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 5_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The app (and so the test database) served on a free port of 127.0.0.1 from a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for the loop to notice, 0.5 s per test by default.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def page(browser: Browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


class Person:
    """One person at their own browser: a context with its own cookies, and what went wrong in it."""

    def __init__(self, browser: Browser, base: str, viewport=PHONE):
        self.base = base
        self.context: BrowserContext = browser.new_context(
            viewport=viewport, locale="zh-CN", device_scale_factor=1
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"{self.page.url}: {exc}"))

    def _on_console(self, msg: ConsoleMessage) -> None:
        # Chromium logs every non-2xx document as an error; the 409 of a conflict is the expected answer.
        conflict = "status of 409" in msg.text and msg.location["url"].endswith("/claim")
        if msg.type == "error" and not conflict:
            self.problems.append(f"{self.page.url}: {msg.text}")

    def login(self, phone: str) -> Page:
        page = self.page
        page.goto(f"{self.base}/login")
        page.get_by_label("手机号码").fill(phone)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("button", name="退出")).to_be_visible()
        return page

    def open(self, path: str) -> Page:
        assert self.page.goto(self.base + path).ok, path
        return self.page

    def shoot(self, name: str) -> None:
        """Full-page screenshots at phone and desktop width; the page keeps its own width afterwards."""
        SCREENSHOTS.mkdir(exist_ok=True)
        own = self.page.viewport_size
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
        self.page.set_viewport_size(own)


@pytest.fixture
def people(browser: Browser, live_server):
    opened: list[Person] = []

    def person() -> Person:
        opened.append(Person(browser, live_server))
        return opened[-1]

    yield person
    problems = [p for person in opened for p in person.problems]
    for person in opened:
        person.context.close()
    assert not problems, "\n".join(problems)


def prove_number(page: Page) -> None:
    """Press [获取验证码] as a person would, and type the code the demo page shows (演示环境验证码)."""
    page.get_by_role("button", name="获取验证码").click()
    shown = page.locator(".demo-code strong")
    expect(shown).to_have_text(re.compile(r"^\d{6}$"))
    page.get_by_label("短信验证码").fill(shown.inner_text())
