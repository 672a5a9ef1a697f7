"""directory bucket tallies: listed institutions per directory term and bucket of 1,024 ids

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30 10:00:00

Browsing the directory without a query (all of it, a category, a district) read its total with a count
over every listed institution of the filter (a district at 100,000 on PostgreSQL: 58 ms; a category and
a district: 250 ms) and its page with OFFSET, which walks every row it skips (page 4,000: 200 ms). The
counts per bucket of ids, kept in the same transaction as every listing change
(qzt.directory.search.add_to_bucket_tallies), give the total as a sum of a few rows and the bucket where
a page begins. Counted here from the search documents' tags, which hold exactly the terms counted.
"""

from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# As qzt.directory.search (as of this revision).
BUCKET_SIZE = 1024
LISTED_TERM = "qztlisted0"


def upgrade():
    table = op.create_table(
        "directory_bucket_tallies",
        sa.Column("term", sa.String(length=60), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", "bucket", name=op.f("pk_directory_bucket_tallies")),
    )
    counts: Counter = Counter()
    rows = op.get_bind().execute(sa.text("SELECT institution_id, tag_terms FROM search_documents"))
    for institution_id, tags in rows:
        terms = (tags or "").split()
        if LISTED_TERM in terms:
            counts.update((term, institution_id // BUCKET_SIZE) for term in terms)
    if counts:
        op.bulk_insert(table, [{"term": t, "bucket": b, "count": n} for (t, b), n in sorted(counts.items())])


def downgrade():
    op.drop_table("directory_bucket_tallies")
