"""Signed pledges (承诺书, Annex 1). Append-only: a signature row is never changed or deleted."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.extensions import db
from qzt.models.base import UTCDateTime, utcnow


class PledgeSignature(db.Model):
    __tablename__ = "pledge_signatures"

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
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(sa.String(45))
    user_agent: Mapped[str] = mapped_column(sa.String(500))

    application = relationship("Application")
    signer = relationship("User")
    signature_file = relationship("StoredFile")


class AppendOnlyError(RuntimeError):
    pass


@sa.event.listens_for(PledgeSignature, "before_update")
@sa.event.listens_for(PledgeSignature, "before_delete")
def _refuse_change(_mapper, _connection, target) -> None:
    raise AppendOnlyError("a signed pledge cannot be changed or deleted")
