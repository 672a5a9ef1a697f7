"""Security to a government platform's level (MLPS 2.0 level 2, OWASP ASVS L2): each attack replayed
against the app, each test named for what it defends."""

import pytest
import sqlalchemy as sa
from shared_fixtures import csrf, log_in

from qzt.core.http import is_same_site_path
from qzt.extensions import db
from qzt.models import Role


@pytest.mark.parametrize(
    "target",
    [
        "/%0d%0aX-Injected:%201",  # an encoded CR LF: once a 500
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/staff\u202e/x",  # a bidi override
        "/a b",
    ],
)
def test_login_next_accepts_only_a_same_site_path(app, make_user, target):
    make_user(Role.OPERATOR, phone="13700000004")
    response = log_in(app.test_client(), "13700000004", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/applications"  # the operator's landing page
    assert "X-Injected" not in response.headers


def test_login_next_keeps_a_real_path_with_its_query(app, make_user):
    make_user(Role.OPERATOR, phone="13700000004")
    response = log_in(app.test_client(), "13700000004", next_url="/staff/assessments%3Fyear%3D2026")
    assert response.headers["Location"] == "/staff/assessments?year=2026"
    assert is_same_site_path("/directory?q=检测")


def test_logged_in_pages_are_never_cached(app, login_as):
    operator = login_as(Role.OPERATOR)
    for path in ("/staff/applications", "/notices", "/staff/statistics.xlsx", "/directory"):
        response = operator.get(path)
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "Cookie" in response.headers["Vary"], path
    with operator.get("/static/css/site.css") as asset:
        assert "no-store" not in asset.headers.get("Cache-Control", "")
    anonymous = app.test_client().get("/directory")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")


def test_absolute_urls_come_from_the_public_url_not_the_host_header(app, make_institution):
    inst = make_institution()
    forged = app.test_client().get("/api/v1/institutions", headers={"Host": "evil.example"})
    assert "evil.example" in forged.get_data(as_text=True)  # unset (development): the request's address
    app.config["QZT_PUBLIC_URL"] = "https://qzt.example.cn"
    answer = app.test_client().get("/api/v1/institutions").get_json()
    assert answer["items"][0]["url"] == f"https://qzt.example.cn/institutions/{inst.id}"


def test_with_a_public_url_other_hosts_are_refused(database_url, tmp_path, monkeypatch):
    from qzt import create_app

    monkeypatch.setenv("QZT_PUBLIC_URL", "https://qzt.example.cn")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    client = app.test_client()
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/healthz", headers={"Host": "qzt.example.cn"}).status_code == 200


def test_a_malformed_public_url_is_refused_at_start_up(database_url, monkeypatch):
    from qzt import create_app

    monkeypatch.setenv("QZT_PUBLIC_URL", "qzt.example.cn")
    with pytest.raises(ValueError, match="QZT_PUBLIC_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})


@pytest.mark.parametrize(
    "look_alike", ["1370000000５", "١٣٧٠٠٠٠٠٠٠٥", "+86 137-0000-0005", "0086 13700000005"]
)
def test_a_look_alike_number_is_the_same_account_not_a_new_one(app, make_user, look_alike):
    from qzt.auth.services import AccountError, create_user

    make_user(Role.INSTITUTION, phone="13700000005")
    with pytest.raises(AccountError):
        create_user(Role.ENTERPRISE, look_alike, "冒名企业", "Kx9-secure-pass")
    assert log_in(app.test_client(), look_alike).headers["Location"] == "/workbench"


def test_phone_numbers_are_validated_by_libphonenumber():
    from qzt.rules import phone

    assert phone.normalize("1390000000５") == "13900000005"
    assert phone.normalize("0757 8330 1234转801") == "0757-83301234-801"
    assert not phone.is_mobile("12345678901") and not phone.is_mobile("14000000000")
    assert phone.is_contact_number("0757-83301234") and not phone.is_contact_number("0757-8330123")


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("12345678", "密码太简单"),
        ("aaaaaaaa", "密码太简单"),
        ("Kx9-a", "密码太短"),
        ("P@ssw0rd", "常见密码"),
        ("Password1!", "常见密码"),
        ("13700000009Ab", "不能包含手机号码"),
    ],
)
def test_register_refuses_weak_passwords_and_says_what_to_fix(app, password, says):
    client = app.test_client()
    form = {
        "kind": "enterprise",
        "company_name": "佛山市测试电器有限公司",
        "phone": "13700000009",
        "password": password,
        "confirm": password,
        "consent": "y",
        "csrf_token": csrf(client, "/register"),
    }
    response = client.post("/register", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and says in page
    assert 'value="佛山市测试电器有限公司"' in page  # what was typed stays


def test_staff_accounts_follow_the_same_password_policy(app):
    from qzt.auth.services import AccountError, create_user

    with pytest.raises(AccountError, match="常见密码"):
        create_user(Role.OPERATOR, "13700000004", "运维", "Qwerty123")
    assert create_user(Role.OPERATOR, "13700000004", "运维", "Foshan-ops-2026").phone == "13700000004"


def test_login_locks_after_five_failures(app, make_user):
    from qzt.models import AuditRecord, User

    make_user(Role.OPERATOR, phone="13700000004")
    client = app.test_client()
    for _ in range(4):
        assert log_in(client, "13700000004", "Wrong-pass-1").status_code == 422
    fifth = log_in(client, "13700000004", "Wrong-pass-1")
    assert fifth.status_code == 429 and "账号已锁定至" in fifth.get_data(as_text=True)
    right = log_in(client, "13700000004")
    assert right.status_code == 429, "the right password is refused while locked"
    actions = [a.action for a in db.session.scalars(sa.select(AuditRecord).order_by(AuditRecord.id))]
    assert actions.count("login_failed") == 5 and "account_locked" in actions
    runner = app.test_cli_runner()
    assert "已解锁账号" in runner.invoke(args=["qzt", "unlock", "13700000004"]).output
    assert log_in(client, "13700000004").status_code == 302
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.phone == "13700000004"))
    assert user.failed_logins == 0 and user.locked_until is None


def test_login_says_the_same_for_an_unknown_number_and_a_wrong_password(app, make_user):
    make_user(Role.OPERATOR, phone="13700000004")
    unknown = log_in(app.test_client(), "13700000008", "Wrong-pass-1")
    wrong = log_in(app.test_client(), "13700000004", "Wrong-pass-1")
    assert unknown.status_code == wrong.status_code == 422
    assert "手机号码或密码不正确" in unknown.get_data(as_text=True)
    assert "手机号码或密码不正确" in wrong.get_data(as_text=True)


def test_login_from_one_address_is_limited_to_ten_tries_a_minute(app, make_user):
    """Spread over many accounts, guessing is not stopped by the lockout: the per-address limit is."""
    client = app.test_client()
    token = csrf(client)
    statuses = [
        client.post(
            "/login", data={"phone": f"1370000{n:04d}", "password": "x", "csrf_token": token}
        ).status_code
        for n in range(11)
    ]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
    page = client.post("/login", data={"phone": "13700000001", "password": "x", "csrf_token": token})
    assert page.status_code == 429 and "操作过于频繁" in page.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # reading the page is not limited
