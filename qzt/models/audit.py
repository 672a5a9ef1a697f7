"""The audit trail: every staff action and state change. Append-only, in the database too, and a hash
chain (qzt.rules.audit): each record holds the hash of the one before it, in id order."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime


class AuditRecord(db.Model):
    __tablename__ = "audit_records"
    __append_only__ = True  # qzt.core.database refuses UPDATE and DELETE

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # The request that made it (qzt.core.requestlog), None outside requests and for records made before
    # migration 0018. Hashed when set (qzt.rules.audit.OPTIONAL_FIELDS).
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    # Set when the record is flushed (qzt.core.audit.chain_new_records), never by hand: hex SHA-256.
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.Index("ix_audit_records_object", "object_type", "object_id"),
        # Two records can never chain onto the same predecessor (a fork), whatever went wrong.
        sa.Index("ix_audit_records_prev_hash", "prev_hash", unique=True),
    )

    actor = relationship("User")
