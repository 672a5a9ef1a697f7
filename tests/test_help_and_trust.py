"""Help and trust (issue: help and trust details): the footer's 联系我们, regulation link and filing numbers
from settings, and registration's offer of [登录] / [忘记密码] to a number that already has an account,
made only once the SMS code is proved."""

import re

import pytest
import sqlalchemy as sa
from factories import PASSWORD
from shared_fixtures import csrf, sms_code

from qzt.extensions import db
from qzt.models import PhoneCode, Role, User

TAKEN = "13900000004"
NEW = "13600000009"
FOOTER = {
    "QZT_OPERATOR_HOTLINE": "0757-83030000",
    "QZT_OPERATOR_HOURS": "工作日 8:30-12:00、14:00-17:30",
    "QZT_ICP_NUMBER": "粤ICP备12345678号",
    "QZT_SITE_CODE": "4406000001",
}


def footer(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return html.split('<footer class="site-footer">')[1].split("</footer>")[0]


# --- footer ---


@pytest.mark.parametrize("path", ["/", "/login", "/guide"])
def test_footer_shows_the_hotline_its_hours_and_the_filing_numbers_when_set(app, client, path):
    app.config.update(FOOTER)
    text = footer(client, path)
    assert "联系我们" in text and "0757-83030000" in text and 'href="tel:075783030000"' in text
    assert "工作日 8:30-12:00、14:00-17:30" in text
    assert re.search(r'<a href="https://beian.miit.gov.cn/"[^>]*>粤ICP备12345678号</a>', text)
    assert "网站标识码：4406000001" in text


def test_footer_leaves_out_each_line_whose_setting_is_unset(app, client):
    text = footer(client, "/")
    assert "联系我们" not in text and "beian.miit.gov.cn" not in text and "网站标识码" not in text
    app.config.update(QZT_SITE_CODE="4406000001")
    text = footer(app.test_client(), "/login")
    assert "网站标识码：4406000001" in text and "beian.miit.gov.cn" not in text and "联系我们" not in text
    app.config.update(QZT_OPERATOR_HOTLINE="0757-83030000")
    text = footer(app.test_client(), "/login")
    assert "联系我们" in text and "（" not in text  # no hours: no empty brackets


def test_footer_links_the_regulation_to_a_page_that_shows_it(client):
    text = footer(client, "/")
    link = re.search(r'<a href="([^"]+)">《[^<]*管理办法》</a>', text)
    assert link and link.group(1) == "/regulation"
    assert "第十四条" in client.get(link.group(1)).get_data(as_text=True)  # the text itself, not a summary


def test_footer_settings_come_from_the_environment(monkeypatch, tmp_path):
    from qzt.config import from_environment

    for name, value in FOOTER.items():
        monkeypatch.setenv(name, f" {value} ")
    monkeypatch.setenv("QZT_SITE_CODE", "")
    config = from_environment(str(tmp_path))
    assert config["QZT_OPERATOR_HOTLINE"] == "0757-83030000" and config["QZT_SITE_CODE"] is None


# --- registration and a number that already has an account ---


def register_form(client, phone: str, code: str) -> dict:
    return {
        "kind": "enterprise",
        "company_name": "佛山市顺德区测试电器有限公司",
        "phone": phone,
        "code": code,
        "password": "Foshan-qzt-2026",
        "confirm": "Foshan-qzt-2026",
        "consent": "y",
        "csrf_token": csrf(client, "/register"),
    }


def same_page(html: str, data: dict) -> str:
    """The page with what differs by design (the number, the typed code, the CSRF token) blanked out."""
    number = data["phone"]
    html = html.replace(number, "N").replace(number[:3] + "****" + number[-4:], "N")
    # A CSRF token is signed with the second it is made: two renderings may differ in it alone.
    html = re.sub(r'"I[\w-]+\.[\w-]+\.[\w-]+"', '"T"', html)
    html = html.replace(data["csrf_token"], "T")
    return html.replace(f'value="{data["code"]}"', 'value="C"') if data["code"] else html


def test_before_the_code_is_proved_a_taken_number_is_answered_like_a_new_one(app, make_user):
    make_user(Role.ENTERPRISE, phone=TAKEN)
    for code_of in (
        lambda client, number: "",
        lambda client, number: wrong(sms_code(client, "/register", number)),
    ):
        answers = []
        for number in (TAKEN, NEW):
            client = app.test_client()
            data = register_form(client, number, code_of(client, number))
            response = client.post("/register", data=data)
            answers.append((response.status_code, same_page(response.get_data(as_text=True), data)))
        assert answers[0] == answers[1]
        assert (
            answers[0][0] == 422 and "已注册" not in answers[0][1] and "忘记密码?phone" not in answers[0][1]
        )
        db.session.execute(sa.delete(PhoneCode))  # the next round asks for new codes without the wait
        db.session.commit()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_once_the_code_is_proved_a_taken_number_is_offered_login_and_password_reset(app, client, make_user):
    owner = make_user(Role.ENTERPRISE, phone=TAKEN)
    code = sms_code(client, "/register", TAKEN)
    response = client.post("/register", data=register_form(client, TAKEN, code))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f"手机号码 {TAKEN} 已注册" in html
    login = re.search(r'<a class="button primary" href="([^"]+)">登录</a>', html)
    reset = re.search(r'<a class="button secondary" href="([^"]+)">忘记密码</a>', html)
    assert login and reset
    assert login.group(1) == f"/login?phone={TAKEN}" and reset.group(1) == f"/password/forgot?phone={TAKEN}"
    for link in (login.group(1), reset.group(1)):
        page = client.get(link).get_data(as_text=True)
        assert re.search(rf'<input[^>]*id="phone"[^>]*value="{TAKEN}"', page) or re.search(
            rf'<input[^>]*value="{TAKEN}"[^>]*id="phone"', page
        )
    # nothing about the account changed, and the proved code is used up
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    db.session.refresh(owner)
    assert owner.check_password(PASSWORD) and owner.role == Role.ENTERPRISE
    again = client.post("/register", data=register_form(client, TAKEN, code))
    assert "已注册" not in again.get_data(as_text=True)


def test_login_prefills_only_a_mobile_number(client):
    page = client.get("/login?phone=abc%22%3E").get_data(as_text=True)
    assert 'value="abc' not in page
    page = client.get("/login?phone=139%2000000004").get_data(as_text=True)
    assert f'value="{TAKEN}"' in page
