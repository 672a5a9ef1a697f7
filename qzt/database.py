"""Connection settings that SQLAlchemy does not make itself."""

import sqlite3

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from qzt.extensions import db


@sa.event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL for concurrent readers beside one writer; foreign keys enforced as on PostgreSQL."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def dialect() -> str:
    return db.engine.dialect.name
