"""Signed pledges (承诺书, Annex 1). Append-only: a signature row is never changed or deleted."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime


class PledgeSignature(db.Model):
    __tablename__ = "pledge_signatures"
    __append_only__ = True  # qzt.core.database refuses UPDATE and DELETE

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public, unguessable code for /verify/<code>.
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    signer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(sa.String(100))
    signature_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    institution_name: Mapped[str] = mapped_column(sa.String(200))
    uscc: Mapped[str] = mapped_column(sa.String(18), index=True)
    pledge_version: Mapped[str] = mapped_column(sa.String(32))
    text_sha256: Mapped[str] = mapped_column(sa.String(64))
    snapshot_sha256: Mapped[str] = mapped_column(sa.String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ip: Mapped[str] = mapped_column(sa.String(45))
    user_agent: Mapped[str] = mapped_column(sa.String(500))

    application = relationship("Application")
    signer = relationship("User")
    signature_file = relationship("StoredFile")


class AppendOnlyError(RuntimeError):
    """A change to a row of an append-only table (``__append_only__ = True``)."""
