"""Database plumbing: connection settings, append-only guards and optimistic locking.

``init_app`` installs the SQLAlchemy listeners; nothing is registered at import time.
"""

import sqlite3

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qzt.core import audit
from qzt.extensions import db
from qzt.models import AppendOnlyError


class Conflict(Exception):
    """Someone else changed the object since this page was loaded (its version moved)."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL for concurrent readers beside one writer; synchronous=FULL, so that a commit is on disk when
    it returns (NORMAL could lose the last ones in a power cut); foreign keys enforced as on PostgreSQL."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=FULL")  # a commit answered "saved" survives a power cut too
    cursor.close()


def _statement_timeout(dbapi_connection, record, _proxy) -> None:
    """PostgreSQL: a web request's queries are stopped after QZT_STATEMENT_TIMEOUT_MS, so that one slow
    query cannot hold a worker's thread and a database connection for long (qzt.core.errors answers
    503). Set once per connection, at its first checkout in a request: command-line work (migrations,
    backups, bulk loads) keeps no limit."""
    if record.info.get("statement_timeout") is not None or not has_request_context():
        return
    if type(dbapi_connection).__module__.split(".")[0] != "psycopg":
        return
    timeout = int(current_app.config.get("QZT_STATEMENT_TIMEOUT_MS") or 0)
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {timeout}")  # an int: nothing to quote
    dbapi_connection.commit()  # a SET in a transaction rolled back on return to the pool would be undone
    record.info["statement_timeout"] = timeout


def _refuse_change(_mapper, _connection, target) -> None:
    raise AppendOnlyError(f"{type(target).__tablename__} is append-only: a row is never changed or deleted")


def listen(target, identifier: str, fn) -> None:
    """Register a listener once (create_app runs many times in one process, in the tests)."""
    if not sa.event.contains(target, identifier, fn):
        sa.event.listen(target, identifier, fn)


def init_app(app: Flask) -> None:
    listen(Engine, "connect", _sqlite_pragmas)
    listen(Engine, "checkout", _statement_timeout)
    listen(Session, "before_flush", audit.chain_new_records)  # the audit trail's hash chain
    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__append_only__", False):
            listen(mapper.class_, "before_update", _refuse_change)
            listen(mapper.class_, "before_delete", _refuse_change)


def check_version(obj, version: int | None) -> None:
    """Optimistic locking: the version the page was rendered with must still be the object's."""
    if version is not None and version != obj.version:
        raise Conflict()


def commit_or_conflict() -> None:
    """Commit; a concurrent change (the version moved under us) becomes a Conflict."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict() from None
