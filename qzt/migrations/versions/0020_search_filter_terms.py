"""search filter terms: each search document holds its categories and district as terms

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 13:50:00

So that the index alone answers a filtered search (qzt.directory.search.filter_terms). The terms are
appended here in SQL, so that filtered searches keep working before `qzt reindex --if-stale` rewrites
the documents in their usual order.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        categories = (
            "SELECT string_agg(DISTINCT 'qztcat' || replace(category, '-', ''), ' ') FROM service_items "
            "WHERE service_items.institution_id = search_documents.institution_id"
        )
    else:
        categories = (
            "SELECT replace(group_concat(DISTINCT 'qztcat' || replace(category, '-', '')), ',', ' ') "
            "FROM service_items WHERE service_items.institution_id = search_documents.institution_id"
        )
    district = (
        "SELECT 'qztdist' || district FROM institutions "
        "WHERE institutions.id = search_documents.institution_id"
    )
    # Built from the fixed fragments above only: hence the nosec B608.
    extra = f"coalesce(' ' || ({categories}), '') || coalesce(' ' || ({district}), '')"
    op.execute(f"UPDATE search_documents SET body_terms = body_terms || {extra}")  # nosec B608
    if op.get_bind().dialect.name == "sqlite":  # every document rewritten: one FTS5 segment again
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")


def downgrade():
    # The extra terms do no harm to the older code; `qzt reindex` after a downgrade drops them.
    pass
