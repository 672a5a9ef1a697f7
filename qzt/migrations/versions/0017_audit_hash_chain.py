"""audit hash chain: prev_hash and hash on every audit record, the records made before chained in id order

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 01:16:36.192866

"""

import sqlalchemy as sa
from alembic import op

from qzt.core.migration_helpers import drop_append_only, make_append_only
from qzt.models.base import UTCDateTime

# The hash the app computes and `flask qzt audit-verify` checks: imported, not copied, so the records
# chained here match byte for byte. qzt.rules.audit's canonical form must never change.
from qzt.rules.audit import FIELDS, GENESIS, record_hash

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BATCH = 1000

# The table as the app reads it (zone-aware moments, JSON decoded), so the hashes cover the same values.
records = sa.table(
    "audit_records",
    sa.column("id", sa.Integer),
    sa.column("at", UTCDateTime),
    sa.column("actor_id", sa.Integer),
    sa.column("ip", sa.String),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.Integer),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("note", sa.Text),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _chain_existing() -> None:
    """Chain the records already there, in id order, BATCH at a time (the append-only triggers are off
    meanwhile: this is the one UPDATE the table ever sees)."""
    connection = op.get_bind()
    columns = [records.c[name] for name in FIELDS]
    update = (
        records.update()
        .where(records.c.id == sa.bindparam("_id"))
        .values(prev_hash=sa.bindparam("_prev_hash"), hash=sa.bindparam("_hash"))
    )
    prev_hash, last_id = GENESIS, 0
    while True:
        rows = connection.execute(
            sa.select(*columns).where(records.c.id > last_id).order_by(records.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        params = []
        for row in rows:
            digest = record_hash(row._mapping, prev_hash)
            params.append({"_id": row.id, "_prev_hash": prev_hash, "_hash": digest})
            prev_hash, last_id = digest, row.id
        connection.execute(update, params)


def upgrade():
    drop_append_only("audit_records")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _chain_existing()
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("ix_audit_records_prev_hash", ["prev_hash"], unique=True)
    make_append_only("audit_records")  # SQLite rebuilt the table above, and its triggers went with it


def downgrade():
    drop_append_only("audit_records")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_prev_hash")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
    make_append_only("audit_records")
