"""Shared fixtures (a pytest plugin, registered in conftest.py): clients, logged-in clients, users,
institutions and applications; the two plain helpers every form post needs, csrf() and log_in(); and
in_app_thread() for tests of concurrent transactions.

Test modules import plain names from here or from factories, never from conftest.
"""

import re
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from factories import PASSWORD
from factories import make_application as _make_application
from factories import make_user as _make_user

from qzt.directory.search import index_institution
from qzt.extensions import db
from qzt.models import Institution, ListingState, Qualification, Role, ServiceAgent, ServiceItem, User
from qzt.rules.uscc import with_check_digit

# The phone login_as uses for a role when the test names none.
PHONES = {
    Role.ENTERPRISE: "13700000001",
    Role.INSTITUTION: "13700000002",
    Role.OPERATOR: "13700000004",
    Role.AUTHORITY: "13700000005",
    Role.ADMIN: "13700000006",
}
STAFF_ROLES = ("operator", "authority", "admin")


def page_text(response) -> str:
    """A page's HTML without the <mark> tags search puts around the query's words, so that a name can
    be looked for whole (佛山市<mark>计量</mark>所 reads 佛山市计量所)."""
    return re.sub(r"</?mark>", "", response.get_data(as_text=True))


def csrf(client, path: str = "/login") -> str:
    """The CSRF token a page hands to forms and to htmx (its meta csrf-token), following redirects."""
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, f"no csrf-token meta on {path}"
    return match.group(1)


def sms_code(client, path: str, phone: str) -> str:
    """Press [获取验证码] on the page at path and read the code the page shows (the log SMS backend shows
    it as 演示环境验证码, as in a demo)."""
    response = client.post(path, data={"phone": phone, "action": "code", "csrf_token": csrf(client, path)})
    match = re.search(r"演示环境验证码：<strong>(\d{6})</strong>", response.get_data(as_text=True))
    assert match, f"no code shown at {path}: {response.status_code}"
    return match.group(1)


def log_in(client, phone: str, password: str = PASSWORD, next_url: str = ""):
    """Post the login form as a person would; the response, for tests of the login itself."""
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"phone": phone, "password": password, "csrf_token": csrf(client)})


def in_app_thread(app, work, errors: list, failed: threading.Event) -> threading.Thread:
    """A thread running `work()` in an app context, with a database session of its own; what it raises
    is added to `errors` (for the main thread to report) and sets `failed`, so that a thread waiting for
    this one stops waiting."""

    def run():
        try:
            with app.app_context():
                work()
                db.session.remove()
        except BaseException as e:
            errors.append(e)
            failed.set()

    return threading.Thread(target=run)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """make_user(role=Role.ENTERPRISE, phone="13800138000", name="测试用户"), with PASSWORD."""
    return _make_user


@pytest.fixture
def login_as(app):
    """login_as(role, phone=None, *, name="测试用户"): a fresh test client, logged in through /login.

    The user with that phone is created (with PASSWORD) unless it exists; it must have that role."""

    def login(role: Role | str, phone: str | None = None, *, name: str = "测试用户"):
        role = Role(role)
        phone = phone or PHONES[role]
        user = db.session.scalar(sa.select(User).where(User.phone == phone)) or _make_user(role, phone, name)
        assert user.role == role, f"{phone} is a {user.role.value} account, not a {role.value} one"
        client = app.test_client()
        assert log_in(client, phone).status_code == 302, f"could not log in as {role.value} {phone}"
        return client

    return login


@pytest.fixture(params=STAFF_ROLES)
def staff_client(request, login_as):
    """A logged-in client of each kind of staff in turn: for what holds for any staff member."""
    return login_as(request.param)


@pytest.fixture
def make_application(app):
    """make_application(user=None, *, state=SUBMITTED, signed=True, data=None, **signature): see factories."""
    return _make_application


@pytest.fixture
def make_institution(app):
    """Create a listed institution; services are (category, title, content, featured) tuples."""
    counter = iter(range(1, 10_000))

    def make(
        name: str = "佛山市测试检测有限公司",
        *,
        district: str = "chancheng",
        introduction: str = "",
        services: list[tuple] = (("inspection", "电子电器检测", "", True),),
        qualifications: list[tuple] = (),
        agents: list[tuple] = (),
        state: ListingState = ListingState.LISTED,
        opened_on: date | None = date(2025, 1, 6),
    ) -> Institution:
        n = next(counter)
        inst = Institution(
            name=name,
            uscc=with_check_digit(f"91440604MA{n:07d}"),
            district=district,
            introduction=introduction,
            phone="0757-83301234",
            address="佛山市禅城区季华五路1号",
            listing_state=state,
            opened_on=opened_on,
        )
        for pos, (category, title, content, featured) in enumerate(services):
            inst.services.append(
                ServiceItem(category=category, title=title, content=content, featured=featured, position=pos)
            )
        for qname, valid_until in qualifications:
            inst.qualifications.append(
                Qualification(name=qname, number="No.1", issuer="发证机关", valid_until=valid_until)
            )
        for aname, aphone in agents:
            inst.agents.append(ServiceAgent(name=aname, phone=aphone, hours="工作日 8:00-18:00"))
        db.session.add(inst)
        db.session.flush()
        index_institution(inst)
        db.session.commit()
        return inst

    return make


@pytest.fixture
def owned_institution(make_institution, make_user):
    """A listed 检验检测 institution with two featured items, its account (13700000002, 机构账号), and an
    operator (13700000004, 运维小王): the people of the service-loop tests."""
    owner = make_user(Role.INSTITUTION, phone="13700000002", name="机构账号")
    inst = make_institution(
        "佛山市顺德区家电检测技术有限公司",
        introduction="专业从事家用电器检验检测。",
        services=[
            ("inspection", "家电安全检测", "GB 4706系列", True),
            ("inspection", "能效检测", "能效标识", True),
        ],
    )
    inst.owner_id = owner.id
    db.session.commit()
    make_user(Role.OPERATOR, phone="13700000004", name="运维小王")
    return inst
