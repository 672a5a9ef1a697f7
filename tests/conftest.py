"""Fixtures: the app on SQLite or PostgreSQL (--db), clients, users and institution factories."""

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from flask_migrate import upgrade
from pg import start_server  # tests/ is on sys.path (pytest's rootdir conftest)

from qzt import create_app
from qzt.directory.search import index_institution
from qzt.extensions import db
from qzt.models import Institution, ListingState, Qualification, Role, ServiceAgent, ServiceItem, User
from qzt.rules.uscc import with_check_digit

pytest_plugins = ["browser"]  # tests/browser.py: the Chromium and live-server fixtures

PASSWORD = "correct-horse-9"


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite", choices=["sqlite", "postgresql"], help="database to test on")


@pytest.fixture(scope="session")
def _migrated(request, tmp_path_factory):
    """A migrated database: a SQLite template file, or a database on a throw-away PostgreSQL."""
    if request.config.getoption("--db") == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'template.sqlite3'}"
        _upgrade(url, tmp_path_factory)
        yield url
        return
    server = start_server()
    try:
        url = server.create_database("qzt_test")
        _upgrade(url, tmp_path_factory)
        yield url
    finally:
        server.stop()


def _upgrade(url: str, tmp_path_factory) -> None:
    app = create_app(_test_config(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture
def database_url(_migrated, tmp_path):
    """Each test starts from the freshly migrated database: a copy of the SQLite template, or PostgreSQL
    with every table emptied afterwards (append-only tables refuse DELETE, but not TRUNCATE)."""
    if _migrated.startswith("sqlite"):
        copy = tmp_path / "test.sqlite3"
        shutil.copyfile(_migrated.removeprefix("sqlite:///"), copy)
        return f"sqlite:///{copy}"
    return _migrated


def _test_config(url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret",
        # scrypt costs 0.25 s a hash here; test users need no protection against brute force.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


def _truncate_all() -> None:
    # site_state holds counters the migrations seed; their values may carry over between tests.
    tables = ", ".join(t.name for t in db.metadata.sorted_tables if t.name != "site_state")
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(_test_config(database_url, tmp_path / "instance"))

    # Tests hold an app context open to reach the database; Flask then reuses it, and its `g`, for
    # every request. Flask-Login caches the user and Flask-WTF the CSRF token in g: start each request
    # with an empty g, as a fresh app context would, so that each test client is its own user.
    @app.before_request
    def _fresh_g():
        for name in list(g):
            g.pop(name)

    with app.app_context():
        yield app
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            _truncate_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page hands to forms and to htmx (meta csrf-token)."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, f"no csrf-token meta on {path}"
    return match.group(1)


@pytest.fixture
def make_user(app):
    def make(role: Role = Role.ENTERPRISE, phone: str = "13800138000", name: str = "测试用户") -> User:
        user = User(phone=phone, name=name, role=role)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return user

    return make


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
