"""search fields: head terms (name and featured services) and service terms, indexed for ranking

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 13:05:00

The new columns start empty: every document still matches through its body, and `flask --app app qzt
reindex --if-stale` (run by `make run`, and once after deploying this release) fills them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COLUMNS = ("name_terms", "head_terms", "service_terms", "body_terms")
OLD_COLUMNS = ("name_terms", "body_terms")


def upgrade():
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("head_terms", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("service_terms", sa.Text(), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        for column in ("head_terms", "service_terms"):
            op.execute(
                f"CREATE INDEX ix_search_documents_{column} ON search_documents "
                f"USING gin (string_to_array({column}, ' '))"
            )
        return
    _drop_fts()
    _create_fts(COLUMNS)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for column in ("head_terms", "service_terms"):
            op.execute(f"DROP INDEX IF EXISTS ix_search_documents_{column}")
    else:
        _drop_fts()
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_column("service_terms")
        batch_op.drop_column("head_terms")
    if op.get_bind().dialect.name == "sqlite":
        _create_fts(OLD_COLUMNS)


def _drop_fts():
    for name in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")


def _create_fts(columns: tuple[str, ...]):
    """SQLite's FTS5 table over `columns` of search_documents, kept in step by triggers, and filled. The
    statements are built from the fixed column names above only: hence the nosec B608."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    insert = f"INSERT INTO search_fts(rowid, {names}) VALUES (new.institution_id, {new});"  # nosec B608
    command = f"INSERT INTO search_fts(search_fts, rowid, {names})"  # nosec B608
    delete = f"{command} VALUES ('delete', old.institution_id, {old});"
    op.execute(
        f"CREATE VIRTUAL TABLE search_fts USING fts5({names}, "
        "content='search_documents', content_rowid='institution_id', tokenize='ascii')"
    )
    op.execute(f"CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN {delete} END")
    op.execute(
        f"CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN {delete} {insert} END"
    )
    op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
