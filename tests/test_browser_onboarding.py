"""The onboarding wizard (Art. 5–10, Annex 1) in a real browser, as an applicant on a phone goes through it.

Registration, the eight steps with uploads, the inline htmx check, rows added with [添加…], the
signature drawn on the canvas with the mouse, submission, the signed pledge PDF and its public
verification page; resuming after logging out; and the no-JavaScript path. Screenshots of every page
at phone and desktop width land in tests/screenshots/ (gitignored) for a human to look at.
"""

import re
import struct
import subprocess
import zlib
from datetime import timedelta
from pathlib import Path

import onboarding_helpers as helpers
import pytest
from browser import DESKTOP, PHONE, SCREENSHOTS, TIMEOUT_MS, prove_number
from factories import PASSWORD
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from qzt.core import clock
from qzt.extensions import db
from qzt.models import Application, ApplicationState, PledgeSignature, Role
from qzt.pledges import texts as pledges
from qzt.rules.eligibility import DECLARATIONS
from qzt.rules.uscc import with_check_digit

pytestmark = pytest.mark.browser

PHONE_NUMBER = "13600000001"
NAME = "佛山市顺德区家电检测技术有限公司"
USCC = with_check_digit("91440606MA5X0001Y")
BAD_USCC = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")  # a wrong check digit
INTRODUCTION = "专业从事家用电器安全、能效检验检测，具备CMA和CNAS资质，服务顺德家电产业二十年。"
NEXT_YEAR = (clock.today() + timedelta(days=400)).isoformat()
SERVICES = [  # (服务类别, 项目名称, 项目内容, 优势服务项目)
    ("检验检测", "家用电器安全检验检测", "依据GB 4706系列标准开展家用电器安全检验，出具CMA报告。", True),
    ("知识产权", "商标与专利申报代理", "协助企业申报商标、发明专利和实用新型专利。", True),  # Art. 8: step 5
    ("计量", "温度计量器具校准", "温度计、热电偶校准。", False),
]


# --- files a person would pick ---


def write_pdf(path: Path, text: str = "Business licence (test copy)") -> Path:
    """A small but well-formed one-page PDF (pdftotext reads it)."""
    content = b"BT /F1 24 Tf 72 760 Td (" + text.encode("ascii") + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def write_png(path: Path, width: int = 120, height: int = 80) -> Path:
    """A real (if plain blue) PNG photo of a case."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + bytes((30, 90, 170)) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


# --- looking at pages ---

# Controls smaller than a thumb; a checkbox or radio button counts through its label, which is the target.
SMALL_TARGETS = """() => [...document.querySelectorAll(
      'header a, header button, main a.button, main button, main input, main select, main textarea,'
      + ' .progress a, .file-list a')]
    .filter(el => el.offsetParent !== null && !el.closest('.visually-hidden'))
    .filter(el => !((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length))
    .filter(el => el.getBoundingClientRect().height < 44)
    .map(el => `${el.tagName} ${el.textContent.trim() || el.name}: ${el.getBoundingClientRect().height}px`)"""

# Boxes whose content is wider than they are and not clipped: it runs into its neighbours.
SPILLING = """() => [...document.querySelectorAll('header *, main *, footer *')]
    .filter(el => {
      const style = getComputedStyle(el);
      if (el.offsetParent === null || style.display === 'inline') return false;
      if (el.closest('.visually-hidden')) return false;
      if (style.overflowX !== 'visible' || el.scrollWidth <= el.clientWidth + 1) return false;
      for (let p = el.parentElement; p; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== 'visible') return false;
      }
      return true;
    })
    .map(el => `${el.tagName}.${el.className}: ${el.scrollWidth}px in ${el.clientWidth}px`)"""


def layout_problems(page: Page, where: str, phone: bool) -> list[str]:
    """What a phone user would notice: sideways scrolling, text running into its neighbours, small targets."""
    problems = []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        problems.append(f"{where} scrolls sideways by {overflow}px")
    problems += [f"{where}: content wider than its box: {s}" for s in page.evaluate(SPILLING)]
    if phone:
        problems += [f"{where}: tap target under 44px: {s}" for s in page.evaluate(SMALL_TARGETS)]
    return problems


class Camera:
    """Screenshots of the page at phone and desktop width, and the layout faults seen on the way."""

    def __init__(self, page: Page):
        self.page = page
        self.problems: list[str] = []
        SCREENSHOTS.mkdir(exist_ok=True)

    def shoot(self, name: str) -> None:
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=SCREENSHOTS / f"onboarding-{name}-{label}.png", full_page=True)
            self.problems += layout_problems(self.page, f"{name}-{label}", phone=size == PHONE)
        self.page.set_viewport_size(PHONE)


def watch_console(page: Page) -> list[str]:
    """Console errors (Chromium reports CSP violations there) and uncaught exceptions.

    A step sent back with its errors answers 422, which Chromium also logs: that one is expected."""
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and "status of 422" not in msg.text:
            problems.append(f"{page.url}: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    return problems


# Whether a canvas has anything drawn on it.
INKED = """selector => {
    const canvas = document.querySelector(selector);
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) return true;
    return false;
}"""


# --- what a person does ---


def draw(page: Page, box: dict) -> None:
    """A rising, wavy stroke across the signature pad, with the mouse."""
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for i in range(1, 21):
        x = box["x"] + box["width"] * (0.1 + 0.04 * i)
        y = box["y"] + box["height"] * (0.7 - 0.02 * i + (0.12 if i % 4 < 2 else -0.12))
        page.mouse.move(x, y, steps=2)
    page.mouse.up()


def register(page: Page, base: str, phone: str = PHONE_NUMBER) -> None:
    page.goto(f"{base}/register")
    page.get_by_label("服务机构", exact=True).check()
    page.get_by_label("手机号码", exact=True).fill(phone)
    prove_number(page)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("确认密码", exact=True).fill(PASSWORD)
    page.get_by_label("我已阅读并同意《隐私政策》").check()
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page).to_have_url(f"{base}/onboarding/step/1")


def log_in(page: Page, base: str, phone: str = PHONE_NUMBER) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("手机号码", exact=True).fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("button", name="退出").click()
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="登录")).to_be_visible()


def on_step(page: Page, base: str, number: int, title: str) -> None:
    """The wizard shows step `number`, announced as the current one in the progress list."""
    expect(page).to_have_url(f"{base}/onboarding/step/{number}")
    expect(page.get_by_role("heading", level=2, name=title, exact=True)).to_be_visible()
    progress = page.get_by_role("navigation", name="申请进度")
    expect(progress.locator("[aria-current=step]")).to_contain_text(title)


def press(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def fill_basic(page: Page, uscc: str = USCC) -> None:
    page.get_by_label("机构名称", exact=True).fill(NAME)
    page.get_by_label("统一社会信用代码", exact=True).fill(uscc)
    page.get_by_label("法定代表人", exact=True).fill("张三")
    page.get_by_label("机构类型", exact=True).select_option(label="专业机构")
    page.get_by_label("所在区", exact=True).select_option(label="顺德区")
    page.get_by_label("详细地址", exact=True).fill("大良街道新城区德民路1号")
    page.get_by_label("机构简介", exact=True).fill(INTRODUCTION)
    page.get_by_label("联系电话", exact=True).fill("0757-22223333")


def fill_licence(page: Page, tmp_path: Path) -> None:
    page.get_by_label("营业执照或法人证书", exact=True).set_input_files(write_pdf(tmp_path / "营业执照.pdf"))


def row(page: Page, legend: str):
    """One repeated row (a fieldset), found by its legend."""
    return page.get_by_role("group", name=legend, exact=True)


# --- the tests ---


def test_a_new_institution_goes_through_the_whole_wizard(page: Page, live_server, tmp_path):
    base, camera, console = live_server, Camera(page), watch_console(page)

    # 机构入驻 in the header is the entry point (Art. 10).
    page.goto(base)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="机构入驻").click()
    expect(page).to_have_url(f"{base}/register?kind=institution")  # 服务机构 preselected
    camera.shoot("register")
    press(page, "注册")  # nothing filled in: every field says what it needs
    expect(page.locator(".field-error")).to_have_count(5)
    expect(page.get_by_text("请阅读并勾选同意《隐私政策》后再注册")).to_be_visible()
    camera.shoot("register-errors")
    # The privacy policy opens in a new tab, so that what was typed stays.
    with page.context.expect_page() as new_tab:
        page.get_by_role("link", name="查看隐私政策").click()
    privacy = new_tab.value
    expect(privacy.get_by_role("heading", level=1)).to_have_text("佛山企质通隐私政策")
    policy = Camera(privacy)
    policy.shoot("privacy")
    camera.problems += policy.problems
    privacy.close()
    register(page, base)
    expect(page.get_by_role("status").filter(has_text="注册成功")).to_be_visible()
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的申请")).to_be_visible()
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="通知")).to_be_visible()

    # Step 1: the code is checked as soon as the field is left (htmx), before 下一步.
    on_step(page, base, 1, "基本信息")
    fill_basic(page, uscc=BAD_USCC)
    uscc = page.get_by_label("统一社会信用代码", exact=True)
    uscc.press("Tab")
    message = page.locator("#uscc-msg")
    expect(message).to_contain_text("统一社会信用代码无效")
    expect(message).to_have_attribute("role", "alert")
    camera.shoot("step1-invalid-uscc")
    uscc.fill(USCC)
    uscc.press("Tab")
    expect(message).to_have_text("✓ 格式正确")
    camera.shoot("step1-basic")
    press(page, "下一步")

    # Step 2: the licence, then a certificate row with a future date and its file.
    on_step(page, base, 2, "执照与资质")
    fill_licence(page, tmp_path)
    press(page, "添加资质证书")
    certificate = row(page, "资质证书 1")
    expect(certificate).to_be_visible()
    expect(page.locator(".current-file")).to_contain_text("营业执照.pdf")  # saved with the row action
    certificate.get_by_label("证书名称", exact=True).fill("检验检测机构资质认定证书（CMA）")
    certificate.get_by_label("证书编号", exact=True).fill("201919000123")
    certificate.get_by_label("发证机构", exact=True).fill("广东省市场监督管理局")
    certificate.get_by_label("有效期至", exact=True).fill(NEXT_YEAR)
    certificate_file = write_pdf(tmp_path / "CMA证书.pdf", "CMA certificate")
    certificate.get_by_label("证书文件", exact=True).set_input_files(certificate_file)
    camera.shoot("step2-licence")
    press(page, "下一步")

    # Step 3: three service items, two of them featured (Art. 7); one featured is refused first. The
    # step opens with the two featured rows the article asks for at least.
    on_step(page, base, 3, "服务项目")
    for n in (1, 2):
        expect(row(page, f"服务项目 {n}").get_by_label("设为优势服务项目")).to_be_checked()
    press(page, "添加服务项目")
    expect(row(page, "服务项目 3")).to_be_visible()
    for n, (category, title, content, _featured) in enumerate(SERVICES, 1):
        item = row(page, f"服务项目 {n}")
        item.get_by_label("服务类别", exact=True).select_option(label=category)
        item.get_by_label("项目名称", exact=True).fill(title)
        item.get_by_label("项目内容", exact=True).fill(content)
    row(page, "服务项目 2").get_by_label("设为优势服务项目").uncheck()
    press(page, "下一步")
    expect(page.locator(".form-errors")).to_contain_text("当前1项")
    expect(page.locator(".form-errors")).to_contain_text("第七条")
    camera.shoot("step3-services-error")
    expect(row(page, "服务项目 3").get_by_label("项目名称", exact=True)).to_have_value(SERVICES[2][1])
    row(page, "服务项目 2").get_by_label("设为优势服务项目").check()
    camera.shoot("step3-services")
    press(page, "下一步")

    # Step 4: one customer-service agent (Art. 6).
    on_step(page, base, 4, "客服人员")
    agent = row(page, "客服人员 1")  # there from the start: Art. 6 asks for one at least
    agent.get_by_label("客服姓名", exact=True).fill("李小敏")
    agent.get_by_label("客服手机号码", exact=True).fill("13900001001")
    agent.get_by_label("服务时间", exact=True).fill("工作日 8:00-18:00")
    camera.shoot("step4-agents")
    press(page, "下一步")

    # Step 5 appears because a featured item is 知识产权 (Art. 8): clients and case photos.
    on_step(page, base, 5, "证明材料")
    clients = "佛山市某电器有限公司 商标注册 2025-06\n佛山市某五金厂 发明专利 2024-11"
    page.get_by_label("客户名录", exact=True).fill(clients)
    page.get_by_label("案例图片", exact=True).set_input_files(write_png(tmp_path / "商标注册证.png"))
    camera.shoot("step5-evidence")
    press(page, "下一步")

    # Step 6: the four declarations of Art. 5.
    on_step(page, base, 6, "入驻声明")
    for label in DECLARATIONS.values():
        page.get_by_label(label, exact=True).check()
    camera.shoot("step6-declarations")
    press(page, "下一步")

    # Step 7: the summary of everything before signing, each part with [修改] to its step.
    on_step(page, base, 7, "核对资料")
    summary = page.locator(".summary")
    expect(summary.locator(".form-errors")).to_have_count(0)
    for text in (
        NAME,
        USCC,
        "家用电器安全检验检测",
        "李小敏",
        "营业执照.pdf",
        "佛山市某五金厂 发明专利",
        "商标注册证.png",
    ):
        expect(summary).to_contain_text(text)
    edits = summary.get_by_role("link", name=re.compile("^修改"))
    expect(edits).to_have_count(6)
    for n, title in enumerate(("基本信息", "执照与资质", "服务项目", "客服人员", "证明材料", "入驻声明"), 1):
        expect(edits.nth(n - 1)).to_have_text(f"修改{title}")  # 修改, and for screen readers what
        expect(edits.nth(n - 1)).to_have_attribute("href", f"/onboarding/step/{n}")
    expect(page.locator(".progress-text")).to_have_text("第7步/共8步 · 核对资料")
    camera.shoot("step7-summary")
    summary.get_by_role("link", name=re.compile(r"^修改\s*客服人员$")).click()
    on_step(page, base, 4, "客服人员")
    page.get_by_role("navigation", name="申请进度").get_by_role("link", name=re.compile("核对资料")).click()
    on_step(page, base, 7, "核对资料")
    press(page, "确认无误，下一步")

    # Step 8: the pledge (Annex 1), signed with a typed name, a drawn signature and the password.
    on_step(page, base, 8, "签署承诺书")
    pledge = pledges.current()
    expect(page.get_by_role("article", name="承诺书全文")).to_contain_text(pledge.articles[1][3:20])
    page.get_by_label("签署人姓名", exact=True).fill("张三")
    canvas = page.locator("canvas.signature-canvas")
    canvas.scroll_into_view_if_needed()
    # On a phone as wide as the form and half as tall; a finger on it draws instead of scrolling the page.
    box = canvas.bounding_box()
    form_box = page.locator(".sign-form").bounding_box()
    assert abs(box["width"] - form_box["width"]) < 1 and abs(box["width"] / box["height"] - 2) < 0.05, box
    assert box["height"] >= 150, box
    expect(canvas).to_have_css("touch-action", "none")
    expect(canvas).to_have_css("background-color", "rgb(255, 255, 255)")
    signature_field = page.locator("input[name=signature]")
    expect(signature_field).to_have_value("")
    draw(page, box)
    expect(signature_field).to_have_value(re.compile(r"^data:image/png;base64,[A-Za-z0-9+/]{200,}"))
    # [重写] wipes the pad and the field; then the signature again.
    page.get_by_role("button", name="重写", exact=True).click()
    expect(signature_field).to_have_value("")
    assert not page.evaluate(INKED, "canvas.signature-canvas")
    draw(page, box)
    expect(signature_field).to_have_value(re.compile(r"^data:image/png;base64,[A-Za-z0-9+/]{200,}"))
    page.get_by_label("我已阅读并同意承诺书", exact=True).check()
    # A mistyped password sends the page back: the drawing is kept, in the field and on the canvas.
    page.get_by_label("登录密码", exact=True).fill("not-my-password")
    press(page, "签署承诺书")
    expect(page.locator(".sign-form")).to_contain_text("登录密码不正确")
    expect(signature_field).to_have_value(re.compile(r"^data:image/png;base64,"))
    expect(page.get_by_label("签署人姓名", exact=True)).to_have_value("张三")
    expect(page.get_by_label("我已阅读并同意承诺书", exact=True)).to_be_checked()
    page.wait_for_function(INKED, arg="canvas.signature-canvas")
    page.get_by_label("登录密码", exact=True).fill(PASSWORD)
    camera.shoot("step8-pledge")
    page.wait_for_function(INKED, arg="canvas.signature-canvas")  # redrawn at each width
    press(page, "签署承诺书")

    # Signed: the drawn signature once more, as it goes on the pledge, before [提交申请].
    on_step(page, base, 8, "签署承诺书")
    expect(page.get_by_role("status").filter(has_text="承诺书已签署")).to_be_visible()
    preview = page.get_by_role("img", name="张三的手写签名")
    expect(preview).to_be_visible()
    assert page.evaluate("img => img.naturalWidth > 0", preview.element_handle())
    progress = page.get_by_role("navigation", name="申请进度")
    expect(progress.locator("li.done")).to_have_count(8)
    camera.shoot("step8-signed")
    press(page, "提交申请")

    expect(page).to_have_url(f"{base}/onboarding")
    expect(page.get_by_role("status").filter(has_text="入驻申请已提交")).to_be_visible()
    expect(page.locator(".badge.state-submitted")).to_have_text("待初审")
    camera.shoot("status")

    db.session.rollback()  # see what the server thread committed
    application = db.session.scalar(db.select(Application))
    signature = db.session.scalar(db.select(PledgeSignature))
    assert application.state == ApplicationState.SUBMITTED
    assert signature.signer_name == "张三" and signature.signature_file_id is not None  # the drawing

    # The signed pledge as a PDF: the institution, the eight articles and the text's SHA-256.
    with page.expect_download(timeout=30_000) as download_info:  # WeasyPrint loads its fonts on first use
        page.get_by_role("link", name="下载承诺书PDF").click()
    pdf = tmp_path / "pledge.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert NAME in flat and "张三" in flat
    assert len(pledge.articles) == 8
    for article in pledge.articles:
        phrase = re.sub(r"^\d+\.\s*", "", article)[:16]
        assert re.sub(r"\s+", "", phrase) in flat, phrase
    assert pledge.sha256 in flat
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(SCREENSHOTS / "onboarding-pledge-pdf")],
        check=True,
        timeout=60,
    )

    # Anyone holding the link sees the same record, in force.
    page.get_by_role("link", name="查验承诺书").click()
    expect(page).to_have_url(f"{base}/verify/{signature.code}")
    main = page.get_by_role("main")
    expect(main).to_contain_text(pledge.sha256)
    expect(main).to_contain_text(NAME)
    expect(main.locator(".badge")).to_have_text("有效")
    camera.shoot("verify")

    assert not camera.problems, "\n".join(camera.problems)
    assert not console, "\n".join(console)


def test_leaving_and_coming_back_resumes_where_the_applicant_stopped(page: Page, live_server, tmp_path):
    base = live_server
    register(page, base)
    fill_basic(page)
    press(page, "下一步")
    on_step(page, base, 2, "执照与资质")
    fill_licence(page, tmp_path)
    press(page, "下一步")
    on_step(page, base, 3, "服务项目")
    log_out(page)

    log_in(page, base)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的申请").click()
    on_step(page, base, 3, "服务项目")
    progress = page.get_by_role("navigation", name="申请进度")
    expect(progress.locator("li.done")).to_have_count(2)

    progress.get_by_role("link", name=re.compile("执照与资质")).click()
    on_step(page, base, 2, "执照与资质")
    expect(page.locator(".current-file")).to_contain_text("营业执照.pdf")
    progress.get_by_role("link", name=re.compile("基本信息")).click()
    on_step(page, base, 1, "基本信息")
    expect(page.get_by_label("机构名称", exact=True)).to_have_value(NAME)
    expect(page.get_by_label("统一社会信用代码", exact=True)).to_have_value(USCC)
    expect(page.get_by_label("所在区", exact=True)).to_have_value("shunde")
    expect(page.get_by_label("机构简介", exact=True)).to_have_value(INTRODUCTION)


def test_the_wizard_works_without_javascript(browser: Browser, app, live_server, tmp_path):
    base = live_server
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        register(page, base)
        fill_basic(page)
        press(page, "下一步")
        on_step(page, base, 2, "执照与资质")

        # [添加服务项目] is a real submit button: the server adds the row and sends the page back.
        page.goto(f"{base}/onboarding/step/3")
        press(page, "添加服务项目")
        first = row(page, "服务项目 1")
        first.get_by_label("服务类别", exact=True).select_option(label="计量")
        first.get_by_label("项目名称", exact=True).fill("长度计量校准")
        press(page, "添加服务项目")
        expect(row(page, "服务项目 2")).to_be_visible()
        expect(first.get_by_label("项目名称", exact=True)).to_have_value("长度计量校准")
        camera = Camera(page)
        camera.shoot("nojs-step3-services")
        press(page, "保存草稿")
        expect(page).to_have_url(f"{base}/onboarding/step/3")
        expect(page.get_by_role("status").filter(has_text="草稿已保存")).to_be_visible()

        # Not complete yet: the summary lists what is missing, with links to the steps, and does not lead on
        # to the pledge, which sends back to it.
        page.goto(f"{base}/onboarding/step/7")
        problems = page.locator(".summary .form-errors")
        expect(problems).to_contain_text("请上传营业执照或法人证书")
        expect(problems.get_by_role("link", name="第2步")).to_have_attribute("href", "/onboarding/step/2")
        expect(page.get_by_role("button", name="确认无误，下一步")).to_have_count(0)
        camera.shoot("nojs-step7-summary-incomplete")
        page.goto(f"{base}/onboarding/step/8")
        on_step(page, base, 7, "核对资料")
        expect(page.get_by_role("status")).to_contain_text("请先在第7步核对申请资料")

        # A complete application is reviewed and signed with the typed name alone: no pad to draw on.
        log_out(page)
        complete = app.test_client()
        helpers.register(complete, phone="13600000002")
        helpers.fill_steps(complete)
        log_in(page, base, "13600000002")
        page.goto(f"{base}/onboarding/step/7")
        press(page, "确认无误，下一步")
        on_step(page, base, 8, "签署承诺书")
        expect(page.get_by_role("button", name="重写")).to_be_hidden()
        page.get_by_label("签署人姓名", exact=True).fill("张三")
        page.get_by_label("登录密码", exact=True).fill(PASSWORD)
        page.get_by_label("我已阅读并同意承诺书", exact=True).check()
        press(page, "签署承诺书")
        on_step(page, base, 8, "签署承诺书")
        expect(page.get_by_role("status").filter(has_text="承诺书已签署")).to_be_visible()
        expect(page.locator(".signature-preview")).to_contain_text("以签署人姓名作为签署")
        camera.shoot("nojs-step8-signed")
        press(page, "提交申请")
        expect(page.get_by_role("status").filter(has_text="入驻申请已提交")).to_be_visible()
        assert not camera.problems, "\n".join(camera.problems)
    finally:
        context.close()

    db.session.rollback()
    signature = db.session.scalar(db.select(PledgeSignature))
    assert signature.signer_name == "张三" and signature.signature_file_id is None


def test_step_bar_shows_a_step_that_does_not_apply_and_the_current_name_on_a_phone(
    browser: Browser, app, live_server
):
    """An inspection body (no Art. 8/9 item): still 8 steps, 证明材料 marked 不适用 and no link; at 390 px the
    current step's name beside its number. The pad of a 3x screen draws at its density."""
    base = live_server
    applicant = app.test_client()
    helpers.register(applicant)
    helpers.fill_steps(applicant)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=3)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        camera, console = Camera(page), watch_console(page)
        log_in(page, base)
        page.goto(f"{base}/onboarding/step/4")
        press(page, "下一步")
        on_step(page, base, 6, "入驻声明")  # 5 passed over
        progress = page.get_by_role("navigation", name="申请进度")
        expect(progress.locator("li")).to_have_count(8)
        skipped = progress.locator("li.skipped")
        expect(skipped).to_have_count(1)
        expect(skipped).to_contain_text("5")
        expect(skipped).to_contain_text("不适用")
        expect(skipped.get_by_role("link")).to_have_count(0)
        expect(page.locator(".progress-text")).to_be_visible()
        expect(page.locator(".progress-text")).to_have_text("第6步/共8步 · 入驻声明")
        camera.shoot("stepbar-not-applicable")
        page.set_viewport_size(DESKTOP)  # the titles in the bar; 不适用 under 证明材料
        assert skipped.locator(".progress-title").bounding_box()["width"] > 40  # 证明材料 written out
        assert page.locator(".progress-text").bounding_box()["width"] <= 1  # only for screen readers here
        page.set_viewport_size(PHONE)

        press(page, "下一步")
        on_step(page, base, 7, "核对资料")
        expect(page.locator(".summary")).to_contain_text("不适用")
        press(page, "确认无误，下一步")
        on_step(page, base, 8, "签署承诺书")
        canvas = page.locator("canvas.signature-canvas")
        canvas.scroll_into_view_if_needed()
        sizes = canvas.evaluate("c => [c.width, c.height, c.offsetWidth, c.offsetHeight]")
        assert sizes[0] == round(sizes[2] * 3) and sizes[1] == round(sizes[3] * 3), sizes
        draw(page, canvas.bounding_box())
        field = page.locator("input[name=signature]")
        expect(field).to_have_value(re.compile(r"^data:image/png;base64,"))
        width, height = page.evaluate(
            """src => new Promise(done => { const i = new Image(); i.onload = () => done([i.width, i.height]);
                i.src = src; })""",
            field.input_value(),
        )
        assert width <= 900 and abs(width / height - 2) < 0.05, (width, height)  # within 2000×1000
        assert not camera.problems, "\n".join(camera.problems)
        assert not console, "\n".join(console)
    finally:
        context.close()


HEADER = {  # who: (links shown, links not shown, where the role's own link leads)
    "visitor": (
        ["机构名录", "机构入驻", "登录"],
        ["我的申请", "工作台", "通知"],
        "/register?kind=institution",
    ),
    "institution": (["机构名录", "我的申请", "通知"], ["机构入驻", "工作台"], "/onboarding/step/1"),
    "operator": (["机构名录", "工作台", "通知"], ["机构入驻", "我的申请"], "/staff/applications"),
}


@pytest.mark.parametrize("who", HEADER)
def test_the_header_offers_each_visitor_their_way_in(page: Page, live_server, make_user, who):
    """机构入驻 for visitors (Art. 10's entry point), 我的申请 for institutions, 工作台 for staff; 通知 once
    logged in. All of it fits a 390px phone, wrapping to a second row, with thumb-sized links."""
    base, (shown, hidden, target) = live_server, HEADER[who]
    header = page.get_by_role("navigation", name="主导航")
    if who == "visitor":
        page.goto(base)
    elif who == "institution":
        register(page, base)
    else:
        make_user(Role.OPERATOR, phone="13900001111", name="平台运维张小明")
        log_in(page, base, "13900001111")
    for name in shown:
        expect(header.get_by_role("link", name=name, exact=True)).to_be_visible()
    for name in hidden:
        expect(header.get_by_role("link", name=name, exact=True)).to_have_count(0)
    own = header.get_by_role("link", name=shown[1], exact=True)
    own.click()
    expect(page).to_have_url(base + target)
    expect(own).to_have_attribute("aria-current", "page" if who == "visitor" else "true")
    problems = layout_problems(page, who, phone=True)
    if who != "visitor":
        header.get_by_role("link", name="通知", exact=True).click()
        expect(page).to_have_url(f"{base}/notices")
        expect(page.get_by_role("heading", level=1)).to_have_text("我的通知")
        expect(header.get_by_role("link", name="通知", exact=True)).to_have_attribute("aria-current", "page")
    assert not problems, "\n".join(problems)


def test_adding_a_row_keeps_what_was_typed_and_moves_to_the_new_row(page: Page, live_server):
    """[添加服务项目] and [添加客服人员] put the new row in place (htmx): no reload, nothing typed lost,
    the focus on the new row's first field; [添加客服人员] gives way to a note at Art. 6's two agents."""
    base, camera, console = live_server, Camera(page), watch_console(page)
    register(page, base)
    progress = page.get_by_role("navigation", name="申请进度")
    progress.get_by_role("link", name=re.compile("服务项目")).click()
    on_step(page, base, 3, "服务项目")
    url = page.url
    page.evaluate("window.notReloaded = true")
    first = row(page, "服务项目 1")
    first.get_by_label("服务类别", exact=True).select_option(label="计量")
    first.get_by_label("项目名称", exact=True).fill("长度计量校准")
    first.get_by_label("项目内容", exact=True).fill("卡尺、千分尺校准")
    press(page, "添加服务项目")
    third = row(page, "服务项目 3")
    expect(third).to_be_visible()
    expect(third.get_by_label("服务类别", exact=True)).to_be_focused()
    expect(first.get_by_label("项目名称", exact=True)).to_have_value("长度计量校准")
    expect(first.get_by_label("项目内容", exact=True)).to_have_value("卡尺、千分尺校准")
    expect(first.get_by_label("服务类别", exact=True)).to_have_value("metrology")
    assert page.evaluate("window.notReloaded") and page.url == url
    expect(page.get_by_role("button", name="添加服务项目", exact=True)).to_have_count(1)
    camera.shoot("step3-row-added")
    # The added row is a row like the others: typed into, it is saved with the step.
    third.get_by_label("项目名称", exact=True).fill("温度计量校准")
    press(page, "保存草稿")
    expect(row(page, "服务项目 3").get_by_label("项目名称", exact=True)).to_have_value("温度计量校准")

    progress.get_by_role("link", name=re.compile("客服人员")).click()
    on_step(page, base, 4, "客服人员")
    row(page, "客服人员 1").get_by_label("客服姓名", exact=True).fill("李小敏")
    press(page, "添加客服人员")
    expect(row(page, "客服人员 2").get_by_label("客服姓名", exact=True)).to_be_focused()
    expect(row(page, "客服人员 1").get_by_label("客服姓名", exact=True)).to_have_value("李小敏")
    expect(page.get_by_role("button", name="添加客服人员")).to_have_count(0)
    expect(page.get_by_text("已达上限：最多配备2名客服人员（第六条）")).to_be_visible()
    camera.shoot("step4-agents-full")
    assert not camera.problems, "\n".join(camera.problems)
    assert not console, "\n".join(console)


def test_a_field_in_error_is_marked_until_it_is_put_right(page: Page, live_server):
    """A step sent with a required field empty: the field is marked (aria-invalid, a red border) and points
    at its message; filled in, the mark and the message go. A field the server checks (the agent's mobile)
    is marked by the check as it is left, and unmarked once the number is right."""
    base, camera, console = live_server, Camera(page), watch_console(page)
    register(page, base)
    fill_basic(page)
    name = page.get_by_label("机构名称", exact=True)
    name.fill("")
    press(page, "下一步")
    expect(page.locator(".form-errors")).to_contain_text("请填写机构名称")
    name = page.get_by_label("机构名称", exact=True)
    message = page.locator("#name-msg")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_attribute("aria-describedby", "name-msg")
    expect(message).to_have_text("请填写机构名称")
    expect(name).to_have_css("border-top-color", "rgb(180, 35, 24)")
    camera.shoot("step1-field-errors")
    name.fill(NAME)
    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(message).to_have_text("与营业执照或法人证书一致")  # the hint the error stood in for
    expect(message).not_to_have_class(re.compile("field-error"))
    expect(name).not_to_have_css("border-top-color", "rgb(180, 35, 24)")
    expect(page.locator(".form-errors")).to_be_visible()  # the summary stays until the step is sent again
    press(page, "下一步")
    on_step(page, base, 2, "执照与资质")

    page.get_by_role("navigation", name="申请进度").get_by_role("link", name=re.compile("客服人员")).click()
    agent_phone = row(page, "客服人员 1").get_by_label("客服手机号码", exact=True)
    agent_phone.fill("1390000")
    agent_phone.press("Tab")
    expect(page.locator("#a-0-phone-msg")).to_contain_text("请填写11位手机号码")
    expect(agent_phone).to_have_attribute("aria-invalid", "true")
    expect(agent_phone).to_have_css("border-top-color", "rgb(180, 35, 24)")
    camera.shoot("step4-agent-phone-error")
    agent_phone.fill("13900001001")
    agent_phone.press("Tab")
    expect(page.locator("#a-0-phone-msg")).to_have_text("✓ 格式正确")
    expect(agent_phone).not_to_have_attribute("aria-invalid", "true")

    # A declaration left unticked (Art. 5) is marked the same way, and ticking it clears it.
    page.get_by_role("navigation", name="申请进度").get_by_role("link", name=re.compile("入驻声明")).click()
    press(page, "下一步")
    key, text = next(iter(DECLARATIONS.items()))
    box = page.get_by_label(text, exact=True)
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{key}-msg")).to_contain_text("请勾选确认")
    box.check()
    expect(box).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{key}-msg")).to_have_text("")
    assert not camera.problems, "\n".join(camera.problems)
    assert not console, "\n".join(console)


def test_without_javascript_adding_a_row_returns_to_it(browser: Browser, live_server):
    """The plain post of [添加服务项目] comes back at the new row (#service-3), in view, typing kept."""
    base = live_server
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        register(page, base)
        page.get_by_role("navigation", name="申请进度").get_by_role(
            "link", name=re.compile("服务项目")
        ).click()
        row(page, "服务项目 1").get_by_label("项目名称", exact=True).fill("长度计量校准")
        press(page, "添加服务项目")
        expect(page).to_have_url(re.compile(r"/onboarding/step/3#service-3$"))
        expect(row(page, "服务项目 3")).to_be_in_viewport()
        expect(row(page, "服务项目 1").get_by_label("项目名称", exact=True)).to_have_value("长度计量校准")
    finally:
        context.close()


def test_adding_a_row_falls_back_to_a_plain_post_when_htmx_gets_no_answer(page: Page, live_server):
    """[添加服务项目] whose htmx request fails (a dropped connection) is sent the plain way instead."""
    base = live_server
    register(page, base)
    page.get_by_role("navigation", name="申请进度").get_by_role("link", name=re.compile("服务项目")).click()
    on_step(page, base, 3, "服务项目")

    def drop_htmx(route):
        if route.request.headers.get("hx-request"):
            route.abort()
        else:
            route.continue_()

    page.route(f"{base}/onboarding/step/3", drop_htmx)
    row(page, "服务项目 1").get_by_label("项目名称", exact=True).fill("长度计量校准")
    press(page, "添加服务项目")
    expect(page).to_have_url(re.compile(r"/onboarding/step/3#service-3$"))
    expect(row(page, "服务项目 3")).to_be_visible()
    expect(row(page, "服务项目 1").get_by_label("项目名称", exact=True)).to_have_value("长度计量校准")
