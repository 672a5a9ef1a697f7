"""account and agent phone numbers in their canonical form (NFKC, ASCII digits, no +86 or separators)

A number kept in another form (full-width digits, "+86 139 …") is rewritten, unless its canonical form is
taken by another row already: that pair is a look-alike account, left as it is for staff to resolve
(`flask --app app qzt accounts` lists both).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from qzt.rules.phone import normalize

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _canonical(table: str) -> None:
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column("phone", sa.String))
    connection = op.get_bind()
    found = connection.execute(sa.select(rows.c.id, rows.c.phone)).all()
    taken = {phone for _id, phone in found}
    for row_id, phone in found:
        canonical = normalize(phone or "")
        if canonical and canonical != phone and canonical not in taken:
            connection.execute(rows.update().where(rows.c.id == row_id).values(phone=canonical))
            taken.add(canonical)


def upgrade():
    _canonical("users")
    _canonical("service_agents")


def downgrade():
    pass  # the canonical form is a valid form of the same number
