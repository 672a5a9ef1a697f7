"""request ids: the request that made an audit record (hashed when set, so older records keep their hash)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 02:01:36.623135

"""

import sqlalchemy as sa
from alembic import op

from qzt.core.migration_helpers import drop_append_only, make_append_only

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    # No row changes: existing records get NULL, which qzt.rules.audit leaves out of the hash. The
    # append-only triggers are switched off around the change, since SQLite's batch mode may rebuild the
    # table (and drop them with it).
    drop_append_only("audit_records")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
    make_append_only("audit_records")


def downgrade():
    drop_append_only("audit_records")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_column("request_id")
    make_append_only("audit_records")
