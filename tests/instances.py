"""Other instances of the site beside the one under test, to restore a backup into: their own database
(a SQLite file not made yet, or a new database on the test PostgreSQL server) and instance folder."""

import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from qzt import create_app
from qzt.core import files
from qzt.core.backup import Site
from qzt.extensions import db


class Instance:
    """Another instance of the site: its own database and instance folder. Its storage is what the
    environment says when the instance's app is made (QZT_STORAGE_URL: unset, instance/uploads)."""

    def __init__(self, url: str, path: Path):
        self.url, self.path = url, path

    @property
    def site(self) -> Site:
        app = self.app()
        with app.app_context():
            return Site(self.url, files.storage())

    def app(self):
        return create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": self.url,
                "INSTANCE_PATH": str(self.path),
                "SECRET_KEY": "test-secret",
            }
        )

    def cli(self, *args: str):
        """`flask --app app qzt ARGS` run on this instance."""
        app = self.app()
        with app.app_context():  # else the command would run in the test's own app context
            result = app.test_cli_runner().invoke(args=["qzt", *args])
            db.engine.dispose()
        return result


def empty_instance(database_url: str, folder: Path, name: str) -> Iterator[Instance]:
    """An empty instance in `folder` on the engine of `database_url` (for a fixture to yield from): on
    PostgreSQL the database `name`, made now and dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield Instance(f"sqlite:///{folder / 'qzt.sqlite3'}", folder)
        return
    name = f"{name}_{os.getpid()}"
    url = sa.engine.make_url(database_url)
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with server.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield Instance(url.set(database=name).render_as_string(hide_password=False), folder)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()
