"""directory tallies: listed institutions counted in all and per category

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28 17:00:00

Kept in the same transaction as every listing change (qzt.directory.search.add_to_tallies), so that the
home page and the API read 18 rows instead of counting every institution. Counted here from the rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "directory_tallies",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_directory_tallies")),
    )
    op.execute(
        "INSERT INTO directory_tallies (key, count) "
        "SELECT 'category:' || s.category, count(DISTINCT s.institution_id) FROM service_items s "
        "JOIN institutions i ON i.id = s.institution_id WHERE i.listing_state = 'listed' GROUP BY s.category"
    )
    op.execute(
        "INSERT INTO directory_tallies (key, count) "
        "SELECT 'listed', count(*) FROM institutions WHERE listing_state = 'listed'"
    )


def downgrade():
    op.drop_table("directory_tallies")
