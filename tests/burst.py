"""Bursts of writes for the backup and crash-safety tests: unique uploads and markers, and what the
database and the upload folder hold afterwards (read directly, with SQLAlchemy Core)."""

import hashlib
import io
import itertools
from pathlib import Path

import pikepdf
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

_serial = itertools.count(1)


def marker(prefix: str) -> str:
    """A text no other write carries."""
    return f"{prefix}-{next(_serial):05d}"


def unique_pdf(text: str) -> bytes:
    """A well-formed one-page PDF whose bytes (and SHA-256) no other upload has: `text` is its title."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.docinfo["/Title"] = text
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_path(upload_root: Path, key: str) -> Path:
    """Where LocalStorage keeps a key."""
    return Path(upload_root) / key[:2] / key[2:4] / key


def query(url: str, sql: str, **params) -> list[tuple]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            count = sa.select(sa.func.count())
            names = sorted(sa.inspect(connection).get_table_names())
            return {name: connection.scalar(count.select_from(sa.table(name))) for name in names}
    finally:
        engine.dispose()
