"""Accounts a person owns (issue: security, points 2 and 4): SMS codes that prove a phone number at
registration and for [忘记密码], and sessions the server ends (logout, password change, deactivation,
staff timeouts, Secure cookies behind a trusted proxy). Each test is named for what it defends."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from factories import PASSWORD
from shared_fixtures import csrf, log_in, sms_code

from qzt.core import clock, notifications
from qzt.core.sms import LogBackend
from qzt.extensions import db
from qzt.models import AuditRecord, Notification, PhoneCode, Role, User
from qzt.rules import codes, sessions

NEW_PASSWORD = "Foshan-qzt-2026"
NUMBER = "13600000009"


def later(app, **delta) -> None:
    """Move the platform clock forward from where it stands."""
    app.config["QZT_CLOCK"] = (clock.now() + timedelta(**delta)).isoformat()


def register_form(client, code: str, phone: str = NUMBER, **extra) -> dict:
    return {
        "kind": "enterprise",
        "company_name": "佛山市顺德区测试电器有限公司",
        "phone": phone,
        "code": code,
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "consent": "y",
        "csrf_token": csrf(client, "/register"),
        **extra,
    }


def user(phone: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.phone == phone))


# --- rules, without an app ---


def test_codes_are_six_digits():
    assert all(len(c) == 6 and c.isdigit() for c in (codes.new_code() for _ in range(200)))


def test_a_code_is_dead_when_used_expired_or_guessed_five_times():
    now = clock.parse("2026-11-28T10:00:00+08:00")
    fresh = codes.Ticket(expires_at=now + codes.LIFETIME)
    assert fresh.usable(now) and fresh.problem(now) is None
    assert "已过期" in codes.Ticket(expires_at=now).problem(now)
    assert "输错5次" in codes.Ticket(expires_at=now + codes.LIFETIME, tries=5).problem(now)
    assert "已使用" in codes.Ticket(expires_at=now + codes.LIFETIME, used_at=now).problem(now)


def test_one_code_a_minute_per_number_rule():
    now = clock.parse("2026-11-28T10:00:00+08:00")
    assert codes.seconds_to_wait(None, now) == 0
    assert codes.seconds_to_wait(now - timedelta(seconds=20), now) == 40
    assert codes.seconds_to_wait(now - timedelta(seconds=59, microseconds=500_000), now) == 1
    assert codes.seconds_to_wait(now - timedelta(minutes=1), now) == 0


def test_typed_codes_forgive_spaces_and_full_width_digits():
    assert codes.clean(" １２3 456 ") == "123456"
    assert codes.clean("١٢٣٤٥٦") == ""  # other scripts' digits are not ours


def test_staff_sessions_end_after_30_idle_minutes_or_12_hours():
    start = clock.parse("2026-11-28T08:00:00+08:00")
    assert sessions.expiry(True, start, start, start + timedelta(minutes=29)) is None
    assert "30分钟没有操作" in sessions.expiry(True, start, start, start + timedelta(minutes=30))
    late = start + timedelta(hours=12)
    assert "12小时" in sessions.expiry(True, start, late - timedelta(minutes=1), late)
    assert sessions.expiry(False, start, start, start + timedelta(days=29)) is None
    assert sessions.expiry(False, start, start, start + timedelta(days=30))


# --- point 2: registration proves the number ---


def test_registration_needs_the_code_sent_to_the_number(client):
    no_code = client.post("/register", data=register_form(client, ""))
    assert no_code.status_code == 422 and "请输入短信验证码" in no_code.get_data(as_text=True)
    never_sent = client.post("/register", data=register_form(client, "123456"))
    assert "请先点击[获取验证码]" in never_sent.get_data(as_text=True)
    code = sms_code(client, "/register", NUMBER)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = client.post("/register", data=register_form(client, wrong))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "验证码不正确，还可再试4次" in page
    assert 'value="佛山市顺德区测试电器有限公司"' in page  # what was typed stays
    assert user(NUMBER) is None
    assert client.post("/register", data=register_form(client, code)).status_code == 302
    assert user(NUMBER).role == Role.ENTERPRISE


def test_sms_code_expires_after_five_minutes(app, client):
    code = sms_code(client, "/register", NUMBER)
    later(app, minutes=5, seconds=1)
    page = client.post("/register", data=register_form(client, code)).get_data(as_text=True)
    assert "验证码已过期（5分钟内有效）" in page and user(NUMBER) is None


def test_sms_code_dies_after_five_wrong_tries(client):
    code = sms_code(client, "/register", NUMBER)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        client.post("/register", data=register_form(client, wrong))
    page = client.post("/register", data=register_form(client, code)).get_data(as_text=True)
    assert "验证码已输错5次，请重新获取" in page and user(NUMBER) is None


def test_one_code_per_minute_per_number(app, client):
    sms_code(client, "/register", NUMBER)
    again = client.post(
        "/register", data={"phone": NUMBER, "action": "code", "csrf_token": csrf(client, "/register")}
    )
    assert again.status_code == 422 and "秒后再重新获取" in again.get_data(as_text=True)
    # the reset page shares the number's minute: no way round it by switching pages
    reset = client.post(
        "/password/forgot",
        data={"phone": NUMBER, "action": "code", "csrf_token": csrf(client, "/password/forgot")},
    )
    assert "秒后再重新获取" in reset.get_data(as_text=True)
    later(app, seconds=61)
    assert sms_code(client, "/register", NUMBER)
    assert db.session.scalar(sa.select(sa.func.count(PhoneCode.id))) == 2


def test_code_request_keeps_what_was_typed_without_javascript(client):
    data = {**register_form(client, ""), "action": "code"}
    page = client.post("/register", data=data).get_data(as_text=True)
    assert 'value="佛山市顺德区测试电器有限公司"' in page and f'value="{NUMBER}"' in page
    assert "验证码已发送至 136****0009" in page


def test_code_request_through_htmx_answers_with_the_status_line_only(client):
    token = csrf(client, "/register")
    response = client.post(
        "/register",
        data={"phone": NUMBER, "action": "code", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="code-status"')
    assert "演示环境验证码" in html and "<form" not in html
    bad = client.post(
        "/register",
        data={"phone": "123", "action": "code", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 200 and "请输入11位中国大陆手机号码" in bad.get_data(as_text=True)


def test_registration_does_not_say_a_number_is_registered_before_the_code_is_proved(app, make_user):
    make_user(Role.OPERATOR, phone="13900000003")
    answers = []
    for number in ("13900000003", NUMBER):
        client = app.test_client()
        response = client.post(
            "/register", data={"phone": number, "action": "code", "csrf_token": csrf(client, "/register")}
        )
        answers.append((response.status_code, response.get_data(as_text=True).count("已注册")))
    assert answers[0] == answers[1] == (200, 0)
    client = app.test_client()
    later(app, minutes=2)
    code = sms_code(client, "/register", "13900000003")
    proved = client.post("/register", data=register_form(client, code, phone="13900000003"))
    assert proved.status_code == 422 and "已注册" in proved.get_data(as_text=True)  # told its owner only


def test_code_goes_through_the_outbox_and_is_not_kept_once_sent(app, client):
    code = sms_code(client, "/register", NUMBER)
    notice = db.session.scalar(sa.select(Notification))
    assert notice.user_id is None and notice.phone == NUMBER and code in notice.body
    ticket = db.session.scalar(sa.select(PhoneCode))
    assert code not in ticket.code_hash and ticket.purpose == codes.REGISTER
    backend = LogBackend()
    assert notifications.tick(backend).sent == 1
    assert backend.sent[0].params["code"] == code and code in backend.sent[0].body
    db.session.expire_all()
    notice = db.session.get(Notification, notice.id)
    assert code not in notice.body and notice.sms_params["code"] == "******"


def test_code_requests_are_audited_without_the_code(client):
    code = sms_code(client, "/register", NUMBER)
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "code_requested"))
    assert record is not None and record.note == "注册"
    assert code not in f"{record.before}{record.after}{record.note}"


def test_real_sms_backend_never_shows_the_code_on_the_page(app, client):
    app.config["QZT_SMS_BACKEND"] = "aliyun"
    response = client.post(
        "/register", data={"phone": NUMBER, "action": "code", "csrf_token": csrf(client, "/register")}
    )
    page = response.get_data(as_text=True)
    assert "验证码已发送至 136****0009" in page and "演示环境验证码" not in page


def test_look_alike_digits_ask_for_the_code_of_the_real_number(client):
    response = client.post(
        "/register",
        data={"phone": "1360000000９", "action": "code", "csrf_token": csrf(client, "/register")},
    )
    assert "136****0009" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(PhoneCode.phone)) == NUMBER


# --- point 2: [忘记密码] ---


def forgot_form(client, phone: str, code: str, password: str = NEW_PASSWORD) -> dict:
    return {
        "phone": phone,
        "code": code,
        "password": password,
        "confirm": password,
        "csrf_token": csrf(client, "/password/forgot"),
    }


def test_forgot_password_resets_by_sms_code_and_ends_every_session(app, login_as):
    staff = login_as(Role.OPERATOR)
    phone = user_phone(Role.OPERATOR)
    client = app.test_client()
    assert "忘记密码" in client.get("/login").get_data(as_text=True)
    code = sms_code(client, "/password/forgot", phone)
    response = client.post("/password/forgot", data=forgot_form(client, phone, code))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert staff.get("/staff/applications").status_code == 302  # the old session is over
    assert log_in(app.test_client(), phone, PASSWORD).status_code == 422  # old password refused
    assert log_in(app.test_client(), phone, NEW_PASSWORD).status_code == 302
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "password_reset"))


def test_forgot_password_lifts_a_lockout(app, make_user):
    account = make_user(Role.ENTERPRISE, phone=NUMBER)
    for _ in range(5):
        log_in(app.test_client(), NUMBER, "wrong-password-1")
    db.session.refresh(account)
    assert account.locked_until is not None
    client = app.test_client()
    code = sms_code(client, "/password/forgot", NUMBER)
    client.post("/password/forgot", data=forgot_form(client, NUMBER, code))
    assert log_in(app.test_client(), NUMBER, NEW_PASSWORD).status_code == 302


def test_forgot_password_for_an_unknown_number_answers_the_same_until_the_code_is_proved(app, make_user):
    make_user(Role.ENTERPRISE, phone="13900000004")
    pages = []
    for number in ("13900000004", NUMBER):
        client = app.test_client()
        response = client.post(
            "/password/forgot",
            data={"phone": number, "action": "code", "csrf_token": csrf(client, "/password/forgot")},
        )
        masked = number[:3] + "****" + number[-4:]
        pages.append(response.get_data(as_text=True).replace(masked, "N").replace(number, "N"))
    strip = [p.split("演示环境验证码")[0] for p in pages]  # the codes themselves differ
    assert strip[0] == strip[1].replace(csrf_of(pages[1]), csrf_of(pages[0]))
    later(app, minutes=2)
    client = app.test_client()
    code = sms_code(client, "/password/forgot", NUMBER)
    page = client.post("/password/forgot", data=forgot_form(client, NUMBER, code)).get_data(as_text=True)
    assert "没有可用的账号" in page


def csrf_of(page: str) -> str:
    return page.split('name="csrf-token" content="')[1].split('"')[0]


def test_forgot_password_new_password_follows_the_policy(client, make_user):
    make_user(Role.ENTERPRISE, phone=NUMBER)
    code = sms_code(client, "/password/forgot", NUMBER)
    response = client.post("/password/forgot", data=forgot_form(client, NUMBER, code, "Password1!"))
    assert response.status_code == 422 and "常见密码" in response.get_data(as_text=True)


# --- point 4: sessions the server ends ---


def user_phone(role: Role) -> str:
    from shared_fixtures import PHONES

    return PHONES[role]


def test_logout_ends_the_session_everywhere_and_a_replayed_cookie_fails(app, login_as):
    first = login_as(Role.OPERATOR)
    second = app.test_client()
    assert log_in(second, user_phone(Role.OPERATOR)).status_code == 302
    stolen = first.get_cookie("session").value
    first.post("/logout", data={"csrf_token": csrf(first, "/")})
    assert second.get("/staff/applications").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/staff/applications")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_password_change_ends_the_other_sessions_and_keeps_this_one(app, login_as):
    here = login_as(Role.ENTERPRISE)
    elsewhere = app.test_client()
    log_in(elsewhere, user_phone(Role.ENTERPRISE))
    wrong = here.post(
        "/account",
        data={
            "current": "not-it-1",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf(here, "/account"),
        },
    )
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    changed = here.post(
        "/account",
        data={
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf(here, "/account"),
        },
    )
    assert changed.status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "password_changed"))


def test_switching_off_a_staff_account_ends_its_sessions(app, login_as):
    operator = login_as(Role.OPERATOR)
    admin = login_as(Role.ADMIN)
    target = user(user_phone(Role.OPERATOR))
    admin.post(f"/staff/users/{target.id}/active", data={"csrf_token": csrf(admin, "/staff/users")})
    assert operator.get("/staff/applications").status_code == 302


def test_login_starts_a_new_session(app, make_user):
    make_user(Role.ENTERPRISE, phone=NUMBER)
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as before:
        before["planted"] = "by-an-attacker"
        token_before = before.get("csrf_token")
    log_in(client, NUMBER)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("csrf_token") != token_before


def test_staff_session_ends_after_30_idle_minutes(app, login_as):
    operator = login_as(Role.OPERATOR)
    later(app, minutes=29)
    assert operator.get("/staff/applications").status_code == 200
    later(app, minutes=29)  # 29 minutes after the last request: still on
    assert operator.get("/staff/applications").status_code == 200
    later(app, minutes=31)
    response = operator.get("/staff/applications")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    page = operator.get(response.headers["Location"]).get_data(as_text=True)
    assert "30分钟没有操作" in page


def test_staff_session_ends_after_12_hours_even_when_busy(app, login_as):
    operator = login_as(Role.OPERATOR)
    for _ in range(28):  # a request every 25 minutes: 11 h 40 min
        later(app, minutes=25)
        assert operator.get("/staff/applications").status_code == 200
    later(app, minutes=25)
    assert operator.get("/staff/applications").status_code == 302


def test_enterprise_sessions_have_no_idle_timeout(app, login_as):
    enterprise = login_as(Role.ENTERPRISE)
    later(app, hours=5)
    assert enterprise.get("/consultations").status_code == 200


def test_sessions_from_before_the_session_token_are_refused(app, make_user):
    account = make_user(Role.OPERATOR, phone="13900000003")
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as old:
        old["_user_id"] = str(account.id)  # how a session named its account before tokens
    assert client.get("/staff/applications").status_code == 302


# --- point 4: HTTPS through a trusted proxy ---


@pytest.fixture
def proxied(database_url, tmp_path, monkeypatch):
    from qzt import create_app

    def make(count: str):
        monkeypatch.setenv("QZT_PROXY_COUNT", count)
        return create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "INSTANCE_PATH": str(tmp_path)}
        ).test_client()

    return make


def test_https_through_a_trusted_proxy_gets_secure_cookies_and_hsts(proxied):
    response = proxied("1").get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_forwarded_headers_are_ignored_without_a_configured_proxy(proxied):
    response = proxied("0").get(
        "/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in response.headers


def test_a_malformed_proxy_count_is_refused_at_start_up(proxied):
    with pytest.raises(ValueError, match="QZT_PROXY_COUNT"):
        proxied("two")


def test_code_requests_are_limited_per_address_and_htmx_is_told_so(client):
    token = csrf(client, "/register")
    answers = [
        client.post(
            "/register",
            data={"phone": f"1360000{n:04d}", "action": "code", "csrf_token": token},
            headers={"HX-Request": "true"},
        )
        for n in range(11)
    ]
    assert [a.status_code for a in answers[:10]] == [200] * 10
    assert answers[10].status_code == 429
    assert answers[10].get_data(as_text=True).startswith('<p class="field-error" role="alert">')
