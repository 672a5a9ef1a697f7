"""Database plumbing: connection settings, append-only guards and optimistic locking.

``init_app`` installs the SQLAlchemy listeners; nothing is registered at import time.
"""

import sqlite3

import sqlalchemy as sa
from flask import Flask
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


def _refuse_change(_mapper, _connection, target) -> None:
    raise AppendOnlyError(f"{type(target).__tablename__} is append-only: a row is never changed or deleted")


def listen(target, identifier: str, fn) -> None:
    """Register a listener once (create_app runs many times in one process, in the tests)."""
    if not sa.event.contains(target, identifier, fn):
        sa.event.listen(target, identifier, fn)


def init_app(app: Flask) -> None:
    listen(Engine, "connect", _sqlite_pragmas)
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
