"""Login by mobile number and password; CSRF on every state change; no state change on GET."""

import pytest
from factories import PASSWORD
from flask_login import current_user
from shared_fixtures import csrf, log_in

from qzt.models import Role

PHONE = "13900001111"


@pytest.fixture
def operator(make_user):
    return make_user(Role.OPERATOR, phone=PHONE, name="运维小张")


def test_login_with_phone_and_password(client, operator):
    response = log_in(client, PHONE)
    assert response.status_code == 302
    with client:
        client.get("/")
        assert current_user.is_authenticated and current_user.phone == "13900001111"


def test_wrong_password_says_so_and_keeps_the_phone(client, operator):
    response = log_in(client, PHONE, "wrong-password")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "手机号码或密码不正确" in html
    assert 'value="13900001111"' in html


def test_invalid_phone_is_explained(client, operator):
    html = log_in(client, "12345").get_data(as_text=True)
    assert "请输入11位中国大陆手机号码" in html


def test_inactive_account_cannot_log_in(client, operator):
    from qzt.extensions import db

    operator.active = False
    db.session.commit()
    assert log_in(client, PHONE).status_code == 422


def test_post_without_csrf_token_is_refused(client, operator):
    response = client.post("/login", data={"phone": "13900001111", "password": PASSWORD})
    assert response.status_code == 400
    assert "安全校验" in response.get_data(as_text=True)


def test_htmx_style_csrf_header_is_accepted(client, operator):
    log_in(client, PHONE)
    assert client.post("/logout").status_code == 400  # no token at all
    response = client.post("/logout", headers={"X-CSRFToken": csrf(client)})
    assert response.status_code == 302


def test_logout_is_post_only(client, operator):
    log_in(client, PHONE)
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={"csrf_token": csrf(client)})
    with client:
        client.get("/")
        assert not current_user.is_authenticated


@pytest.mark.parametrize(
    "target, expected",
    # Anything but a path of this site lands the operator on its own page (issue 9: a landing per role).
    [
        ("/directory", "/directory"),
        ("//evil.example/x", "/staff/applications"),
        ("https://evil.example/", "/staff/applications"),
    ],
)
def test_login_redirects_only_within_the_site(client, operator, target, expected):
    response = log_in(client, PHONE, next_url=target)
    assert response.headers["Location"] == expected


def test_passwords_are_stored_as_slow_salted_hashes(app, make_user):
    app.config.pop("PASSWORD_HASH_METHOD")  # the production setting, not the tests' cheap one
    one, other = (
        make_user(Role.ENTERPRISE, phone="13900002222"),
        make_user(Role.ENTERPRISE, phone="13900003333"),
    )
    assert one.password_hash.startswith("scrypt:")
    assert one.password_hash != other.password_hash  # same password, different salt
    assert PASSWORD not in one.password_hash and one.check_password(PASSWORD)


def test_overlong_name_is_refused_not_a_server_error(app):
    from qzt.auth.services import AccountError, create_user

    with pytest.raises(AccountError, match="不能超过100个字"):
        create_user(Role.OPERATOR, "13900007777", "名" * 101, "long-enough-1")


def test_a_long_account_name_cut_in_the_header_is_whole_in_its_title(login_as):
    name = "入驻机构管理员（演示：佛山市南海区优睿计量校准技术有限公司）"
    html = login_as(Role.INSTITUTION, name=name).get("/").get_data(as_text=True)
    assert f'title="我的账号：{name}">{name}</a>' in html
