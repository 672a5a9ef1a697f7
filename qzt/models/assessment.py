"""The annual assessment (考核, Art. 16; Annex 2): one per institution and cycle, its ten items, and the
institution's annual self-summary (年度服务总结)."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column


class AssessmentState(enum.StrEnum):
    REVIEWING = "reviewing"  # the operator reviews the prefilled items
    SUBMITTED = "submitted"  # [提交审定]: waiting for the authority
    CONFIRMED = "confirmed"  # [确认考核结果]: final, shown to the institution

    @property
    def label(self) -> str:
        return {"reviewing": "待运维审核", "submitted": "待审定", "confirmed": "已确认"}[self.value]


class Assessment(db.Model):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    institution_name: Mapped[str] = mapped_column(sa.String(200))  # as it was when the cycle ended
    cycle_number: Mapped[int]
    cycle_start: Mapped[date] = mapped_column(sa.Date)
    cycle_end: Mapped[date] = mapped_column(sa.Date)  # exclusive: the next cycle's first day
    state: Mapped[AssessmentState] = mapped_column(
        enum_column(AssessmentState, name="assessment_state"), default=AssessmentState.REVIEWING, index=True
    )
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)  # the public check's key
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    returned_note: Mapped[str] = mapped_column(sa.Text, default="")  # the authority's, when sent back
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    score: Mapped[int | None]  # fixed on confirmation
    passed: Mapped[bool | None]
    expulsion_proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # failed: Art. 17
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (sa.UniqueConstraint("institution_id", "cycle_number"),)

    institution = relationship("Institution")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])
    items: Mapped[list["AssessmentItem"]] = relationship(
        back_populates="assessment", order_by="AssessmentItem.number", cascade="all, delete-orphan"
    )

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.cycle_end.toordinal() - 1)


class AssessmentItem(db.Model):
    """One line of the score sheet: what the records say (computed), what the operator decided."""

    __tablename__ = "assessment_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id", ondelete="CASCADE"))
    number: Mapped[int]  # 序号 1–10
    computed: Mapped[bool | None]  # deduct? None: 待人工判断
    judgement: Mapped[bool] = mapped_column(default=False)  # a judgement the operator must confirm
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # 备注: the evidence in one line
    evidence: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{"kind", "id", "text"}]
    decided: Mapped[bool | None]  # the operator's [是]/[否]
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # required when decided ≠ computed
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("assessment_id", "number"),)

    assessment: Mapped[Assessment] = relationship(back_populates="items")

    @property
    def deducts(self) -> bool | None:
        """What counts: the operator's decision, else the computed value."""
        return self.decided if self.decided is not None else self.computed

    @property
    def overridden(self) -> bool:
        return self.decided is not None and self.computed is not None and self.decided != self.computed


class AnnualSummary(db.Model):
    """年度服务总结 (Art. 16): the institution's report on a cycle, uploaded around its end."""

    __tablename__ = "annual_summaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"))
    cycle_number: Mapped[int]
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_files.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (sa.UniqueConstraint("institution_id", "cycle_number"),)

    file = relationship("StoredFile")
