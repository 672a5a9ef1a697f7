"""What staff record about listed institutions (Art. 15, 17): complaints, spot checks, credit records,
and the expulsion notices they send."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column


class ComplaintState(enum.StrEnum):
    PENDING = "pending"  # waiting for the operator's check (核查)
    SUBSTANTIATED = "substantiated"  # 属实: counts for Annex 2 item 2
    UNFOUNDED = "unfounded"  # 不属实

    @property
    def label(self) -> str:
        return {"pending": "待核查", "substantiated": "查实（属实）", "unfounded": "不属实"}[self.value]


class Complaint(db.Model):
    """投诉: a user complains about an institution or one of its agents; the operator checks it."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_agents.id", ondelete="SET NULL"))
    agent_name: Mapped[str] = mapped_column(sa.String(100), default="")  # kept if the agent is removed
    complainant_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    may_contact: Mapped[bool] = mapped_column(default=False)
    evidence_file_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    state: Mapped[ComplaintState] = mapped_column(
        enum_column(ComplaintState, name="complaint_state"), default=ComplaintState.PENDING, index=True
    )
    due_on: Mapped[date] = mapped_column(sa.Date)  # the check's deadline (qzt.rules.complaints)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verification_note: Mapped[str] = mapped_column(sa.Text, default="")
    serious: Mapped[bool] = mapped_column(default=False)  # 情节较重: proposed to the authority for expulsion
    expulsion_proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referral_kind: Mapped[str | None] = mapped_column(sa.String(20))  # qzt.rules.complaints.REFERRAL_KINDS
    referral_body: Mapped[str] = mapped_column(sa.String(200), default="")
    referral_on: Mapped[date | None] = mapped_column(sa.Date)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    institution = relationship("Institution")
    complainant = relationship("User", foreign_keys=[complainant_id])
    verified_by = relationship("User", foreign_keys=[verified_by_id])

    @property
    def is_pending(self) -> bool:
        return self.state == ComplaintState.PENDING


class SpotCheck(db.Model):
    """抽查 (Art. 15): what was checked, what was found, the result; 限期整改 until re-checked."""

    __tablename__ = "spot_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    checked_on: Mapped[date] = mapped_column(sa.Date)
    subject: Mapped[str] = mapped_column(sa.String(200))
    finding: Mapped[str] = mapped_column(sa.Text, default="")
    result: Mapped[str] = mapped_column(sa.String(20))  # qzt.rules.supervision.SPOT_CHECK_RESULTS
    rectify_by: Mapped[date | None] = mapped_column(sa.Date)
    file_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    recheck: Mapped[str | None] = mapped_column(sa.String(20))  # qzt.rules.supervision.RECHECK_RESULTS
    recheck_note: Mapped[str] = mapped_column(sa.Text, default="")
    rechecked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    institution = relationship("Institution")
    recorded_by = relationship("User")

    @property
    def awaiting_recheck(self) -> bool:
        return self.result == "rectify" and self.recheck is None


class CreditRecord(db.Model):
    """A credit fact about an institution (Art. 5; Annex 2 item 1), with its source and date."""

    __tablename__ = "credit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # qzt.rules.supervision.CREDIT_KINDS
    recorded_on: Mapped[date] = mapped_column(sa.Date)  # the fact's date: decision, listing
    source: Mapped[str] = mapped_column(sa.String(300))  # e.g. 决定书文号, 国家企业信用信息公示系统
    description: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    recorded_by = relationship("User")


class ExpulsionNotice(db.Model):
    """清退通知: the letter an expelled institution gets, printed as a PDF that anyone can verify by code.
    It keeps what it said when issued (names change); rows are never changed."""

    __tablename__ = "expulsion_notices"
    __append_only__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    institution_name: Mapped[str] = mapped_column(sa.String(200))
    uscc: Mapped[str] = mapped_column(sa.String(18))
    cause: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    institution = relationship("Institution")
