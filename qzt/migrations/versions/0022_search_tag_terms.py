"""search tag terms: the listed marker and the filter terms in a small column of their own

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29 03:00:00

The terms every search requires (qzt.directory.search.tag_terms: qztlisted0, qztcat..., qztdist...) are
also kept apart from the body, so that PostgreSQL tests them on a few bytes held in the row instead of
parsing a body of some 2 kB for every candidate. PostgreSQL also stores the row narrow: the long term
columns go to TOAST (they are read through their GIN indexes, never row by row), the name and the tags
stay in the row (a row above 512 bytes has its longest columns moved out: at 128 the name went too, and
testing it cost 17 µs a row instead of 1.7), so that walking the primary key while testing the name is
cheap.
The tags have no index of their own: the listed marker is in nearly every row, and an index on it only
tempts the planner; the filters' terms are found through the body's index.
SQLite answers from its FTS5 table, where the body still holds the same terms.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# What qzt.directory.search.tag_terms writes (as of this revision).
TAGS = "t = 'qztlisted0' OR t LIKE 'qztcat%' OR t LIKE 'qztdist%'"


def _is_tag(term: str) -> bool:
    return term == "qztlisted0" or term.startswith(("qztcat", "qztdist"))


def upgrade():
    op.add_column("search_documents", sa.Column("tag_terms", sa.Text(), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_documents SET (toast_tuple_target = 512)")
        op.execute("ALTER TABLE search_documents ALTER COLUMN name_terms SET STORAGE MAIN")
        op.execute("ALTER TABLE search_documents ALTER COLUMN tag_terms SET STORAGE PLAIN")
        # Every row rewritten: with the settings above, the long columns move out of the row.
        tags = f"SELECT t FROM unnest(string_to_array(body_terms, ' ')) AS t WHERE {TAGS} ORDER BY t"  # nosec B608
        op.execute(f"UPDATE search_documents SET tag_terms = array_to_string(ARRAY({tags}), ' ')")  # nosec B608
        op.execute("ANALYZE search_documents")
        return
    documents = sa.table("search_documents", sa.column("institution_id"), sa.column("body_terms"))
    update = sa.text("UPDATE search_documents SET tag_terms = :tags WHERE institution_id = :id")
    rows = op.get_bind().execute(sa.select(documents.c.institution_id, documents.c.body_terms)).all()
    values = [{"id": i, "tags": " ".join(sorted(filter(_is_tag, (body or "").split())))} for i, body in rows]
    if values:
        op.get_bind().execute(update, values)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_documents RESET (toast_tuple_target)")
        op.execute("ALTER TABLE search_documents ALTER COLUMN name_terms SET STORAGE EXTENDED")
    op.drop_column("search_documents", "tag_terms")
