"""Staff side of admission and exit: calendar corrections, withdrawal requests (Art. 11, 12)."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column


class CalendarCorrection(db.Model):
    """A day the `holidays` package gets wrong or does not know yet (a new year's 调休 schedule)."""

    __tablename__ = "calendar_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, unique=True)
    working: Mapped[bool]
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class WithdrawalState(enum.StrEnum):
    REQUESTED = "requested"  # the institution filed its letter
    SETTLED = "settled"  # the operator recorded that leftover matters are settled
    COMPLETED = "completed"  # the authority completed the exit

    @property
    def label(self) -> str:
        return {"requested": "已申请退出", "settled": "遗留问题已处理", "completed": "已退出"}[self.value]


class WithdrawalRequest(db.Model):
    """A listed institution's written request to leave the platform (Art. 12)."""

    __tablename__ = "withdrawal_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    letter_file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_files.id"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[WithdrawalState] = mapped_column(
        enum_column(WithdrawalState, name="withdrawal_state"), default=WithdrawalState.REQUESTED
    )
    settled_note: Mapped[str] = mapped_column(sa.Text, default="")
    settled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    completed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    institution = relationship("Institution")
    letter_file = relationship("StoredFile")

    @classmethod
    def open_for(cls, institution) -> "WithdrawalRequest | None":
        """The institution's request still in progress, if any."""
        stmt = sa.select(cls).where(
            cls.institution_id == institution.id, cls.state != WithdrawalState.COMPLETED
        )
        return db.session.scalar(stmt)
