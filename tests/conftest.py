"""The app on SQLite or PostgreSQL (--db), each test on a freshly migrated database.

The other shared fixtures live in plugins: shared_fixtures.py (clients, users, applications) and
browser.py. (Not "fixtures": pytest's own fixtures plugin has that name, and a plugin of that name
would silently not load.)"""

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from flask_migrate import upgrade
from pg import start_server  # tests/ is on sys.path (pytest's rootdir conftest)

from qzt import create_app
from qzt.extensions import db

pytest_plugins = ["browser", "shared_fixtures"]


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
    def _fresh_g():
        for name in list(g):
            g.pop(name)

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)  # before the app's own hooks

    with app.app_context():
        yield app
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            _truncate_all()
        db.engine.dispose()
