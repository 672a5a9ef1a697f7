"""search field tables: SQLite's name and head tiers each answered by an FTS5 table of their own

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29 05:15:00

A column filter in FTS5 (`name_terms : 质量 管理`) still reads each term's whole doclist, every column's
postings, and tests the column of each: for words common in bodies and rare in names, the name tier of a
search read some 60,000 postings to find a handful (质量管理体系: 11.8 ms at 100,000 institutions). A
table holding only the names (and the tags every search requires) has doclists as long as the names
that hold the term. The same for the head (the name and the featured services). Kept in step with
search_documents by triggers, as search_fts is. PostgreSQL's GIN indexes are per column already.
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

FIELDS = ("name", "head")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for field in FIELDS:
        _create(field)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for field in FIELDS:
        for event in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_fts_{field}_{event}")
        op.execute(f"DROP TABLE IF EXISTS search_fts_{field}")


def _create(field: str) -> None:
    """The statements are built from the fixed names above only: hence the nosec B608."""
    table, columns = f"search_fts_{field}", f"{field}_terms, tag_terms"
    new, old = (f"{row}.{field}_terms, {row}.tag_terms" for row in ("new", "old"))
    insert = f"INSERT INTO {table}(rowid, {columns}) VALUES (new.institution_id, {new});"  # nosec B608
    command = f"INSERT INTO {table}({table}, rowid, {columns})"  # nosec B608
    delete = f"{command} VALUES ('delete', old.institution_id, {old});"
    op.execute(
        f"CREATE VIRTUAL TABLE {table} USING fts5({columns}, "
        "content='search_documents', content_rowid='institution_id', tokenize='ascii')"
    )
    op.execute(f"CREATE TRIGGER {table}_ai AFTER INSERT ON search_documents BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER {table}_ad AFTER DELETE ON search_documents BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER {table}_au AFTER UPDATE ON search_documents BEGIN {delete} {insert} END")
    op.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")  # nosec B608
