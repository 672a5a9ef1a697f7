"""wechat identities: a WeChat openid bound to an account; notices by WeChat beside SMS

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-29 05:02:12

wechat_identities holds the openid (and unionid) a user bound after proving their number (qzt.wechat),
and their choice of channels. A notice that also goes by WeChat is a second outbox row (channel
"wechat", to an openid) pointing at the first (copy_of_id); existing rows are all SMS.
"""

import sqlalchemy as sa
from alembic import op

from qzt.models.base import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wechat_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("unionid", sa.String(length=64), nullable=True),
        sa.Column("notify_by", sa.String(length=10), server_default="wechat", nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_wechat_identities_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_identities")),
        sa.UniqueConstraint("openid", name=op.f("uq_wechat_identities_openid")),
        sa.UniqueConstraint("user_id", name=op.f("uq_wechat_identities_user_id")),
    )
    with op.batch_alter_table("wechat_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wechat_identities_unionid"), ["unionid"], unique=False)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=10), server_default="sms", nullable=False))
        batch_op.add_column(sa.Column("openid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("copy_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_copy_of_id_notifications"), "notifications", ["copy_of_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notifications_copy_of_id_notifications"), type_="foreignkey")
        batch_op.drop_column("copy_of_id")
        batch_op.drop_column("openid")
        batch_op.drop_column("channel")

    with op.batch_alter_table("wechat_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_identities_unionid"))

    op.drop_table("wechat_identities")
