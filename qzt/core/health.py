"""Probes for whatever watches the site (systemd, a load balancer, monitoring): ``/healthz`` says the
process answers (qzt.core.http: no database, nothing to fail); ``/readyz`` says it can serve: the database
answers ``SELECT 1`` and its schema is at the newest migration this code ships. Otherwise 503, with what
is wrong (Redis, when configured, is reported beside them). Both are open to anyone (no login, no page
cache) and say nothing secret: the error's class and the migration revisions, never a message that could
hold an address or a password."""

from functools import lru_cache

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app

from qzt.extensions import db, limiter


@lru_cache(maxsize=4)
def code_migrations(directory: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The head revision(s) of the migrations in `directory` and every revision there, read once per
    process."""
    config = Config()
    config.set_main_option("script_location", directory)
    script = ScriptDirectory.from_config(config)
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return tuple(sorted(script.get_heads())), known


def readiness() -> tuple[dict, int]:
    """(body, status): 200 when the database answers and is migrated to the head, else 503."""
    expected, known = code_migrations(current_app.extensions["migrate"].directory)
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            current = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    except sa.exc.SQLAlchemyError as error:
        current_app.logger.warning("readyz: the database does not answer: %s", error)
        cause = type(getattr(error, "orig", None) or error).__name__
        body = {"status": "unavailable", "database": f"error: {cause}", "migrations": "unknown"}
        return body, 503
    if current == expected:
        return {"status": "ready", "database": "ok", "migrations": "current", **_redis()}, 200
    at = f"database at {', '.join(current) or 'none'}, code at {', '.join(expected)}"
    if not current:
        migrations = f"not migrated: {at}"
    elif set(current) <= known:
        migrations = f"behind: {at} (run flask --app app db upgrade)"
    else:
        migrations = f"unknown revision: {at} (the database is newer than this code)"
    return {"status": "unavailable", "database": "ok", "migrations": migrations}, 503


def _redis() -> dict:
    """Redis, when configured, is reported but does not make the site unready: without it the request
    limits are counted in each process until it is back (Flask-Limiter's in-memory fallback)."""
    if not current_app.config.get("QZT_REDIS_URL"):
        return {}
    try:
        up = limiter.storage.check()
    except Exception:  # a broken connection is "down", whatever the client library raises
        up = False
    return {"redis": "ok" if up else "down: request limits are counted per process until it is back"}


def init_app(app: Flask) -> None:
    @app.get("/readyz")
    def readyz():
        """Readiness probe: the database answers and its migrations are current (503 otherwise)."""
        body, status = readiness()
        return body, status, {"Cache-Control": "no-store"}
