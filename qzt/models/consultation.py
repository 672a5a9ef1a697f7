"""Online consultations (在线咨询, Art. 14): an enterprise asks an institution, its agents reply.

Each consultation keeps what the Art. 14 clock needs: when it was asked, when it is due (the rule's
deadline, fixed when asked), when the institution first replied and how long that took as the rule
counts it. A cycle's figures per institution are one query on (institution_id, asked_at).
"""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column


class ConsultationState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": "进行中", "closed": "已结束"}[self.value]


class DealState(enum.StrEnum):
    """后续业务成交: the institution marks a deal, the enterprise confirms it (a valid order, note 2)."""

    NONE = "none"
    CLAIMED = "claimed"  # the institution pressed [已成交]
    CONFIRMED = "confirmed"  # the enterprise pressed [确认成交]: 有效订单
    DISPUTED = "disputed"  # the enterprise pressed [不属实]

    @property
    def label(self) -> str:
        return {
            "none": "未成交",
            "claimed": "机构标记已成交，待企业确认",
            "confirmed": "企业已确认成交",
            "disputed": "企业表示不属实",
        }[self.value]


class Side(enum.StrEnum):
    """Who wrote a message: the enterprise that asked, or the institution (its account or an agent)."""

    CLIENT = "client"
    INSTITUTION = "institution"


class Consultation(db.Model):
    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"))
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    service_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_items.id", ondelete="SET NULL")
    )
    topic: Mapped[str] = mapped_column(sa.String(200))  # the service item's title when asked, or 其他
    state: Mapped[ConsultationState] = mapped_column(
        enum_column(ConsultationState, name="consultation_state"), default=ConsultationState.OPEN
    )
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # Art. 14 deadline of the first reply
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_seconds: Mapped[int | None]  # Art. 14 response time of the first reply, as the rule counts
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    client_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    institution_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    deal_state: Mapped["DealState"] = mapped_column(
        enum_column(DealState, name="deal_state"), default=DealState.NONE, server_default="none"
    )
    deal_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deal_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a valid order from then on
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (sa.Index("ix_consultations_institution_asked", "institution_id", "asked_at"),)

    institution = relationship("Institution")
    client = relationship("User", foreign_keys=[client_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    service_item = relationship("ServiceItem")
    messages: Mapped[list["ConsultationMessage"]] = relationship(
        back_populates="consultation", order_by="ConsultationMessage.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.state == ConsultationState.OPEN

    def is_overdue(self, now: datetime) -> bool:
        """Art. 14: no first reply by the deadline (answered late, or still unanswered past it)."""
        return (self.first_reply_at or now) > self.due_at


class ConsultationMessage(db.Model):
    __tablename__ = "consultation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("consultations.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    side: Mapped[Side] = mapped_column(enum_column(Side, name="message_side"))
    body: Mapped[str] = mapped_column(sa.Text)
    file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    consultation: Mapped[Consultation] = relationship(back_populates="messages")
    author = relationship("User")
    file = relationship("StoredFile")


class Enterprise(db.Model):
    """An enterprise user's company (平台客户): the name it registered under, its code when given."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    uscc: Mapped[str | None] = mapped_column(sa.String(18))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user = relationship("User")


class CaseState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # [报送案例]: reported to the operator and the authority

    @property
    def label(self) -> str:
        return {"draft": "草稿", "submitted": "已报送"}[self.value]


class CaseReport(db.Model):
    """成功服务案例 (Art. 13): the fields the article lists, drafted from a consultation marked 已成交."""

    __tablename__ = "case_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("consultations.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)  # 咨询时间
    client_name: Mapped[str] = mapped_column(sa.String(200))  # 客户名称
    client_contact: Mapped[str] = mapped_column(sa.String(100))  # 客户联系方式: never public
    topic: Mapped[str] = mapped_column(sa.String(200))  # 咨询项目
    details: Mapped[str] = mapped_column(sa.Text, default="")  # 具体内容
    reply_summary: Mapped[str] = mapped_column(sa.Text, default="")  # 答复情况
    deal_status: Mapped[str] = mapped_column(sa.Text, default="")  # 后续业务成交情况
    saved_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))  # 为客户节省金额（元）
    state: Mapped[CaseState] = mapped_column(
        enum_column(CaseState, name="case_state"), default=CaseState.DRAFT
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    __table_args__ = (sa.Index("ix_case_reports_institution_submitted", "institution_id", "submitted_at"),)

    consultation = relationship("Consultation")
    institution = relationship("Institution")


class FollowUpState(enum.StrEnum):
    """差评跟进 (Art. 15; Annex 2 item 10): opened by a rating of 2 or less."""

    OPEN = "open"  # waiting for the institution's 跟进说明
    ANSWERED = "answered"  # the institution answered: the enterprise may say 满意 or 不满意
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"

    @property
    def label(self) -> str:
        return {
            "open": "待机构跟进",
            "answered": "待企业确认",
            "satisfied": "企业满意",
            "unsatisfied": "企业不满意",
        }[self.value]


class Rating(db.Model):
    """服务评价: an enterprise rates an ended consultation 1–5; 2 or less is a 差评, followed up."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("consultations.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    stars: Mapped[int]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    follow_up: Mapped[FollowUpState | None] = mapped_column(
        enum_column(FollowUpState, name="follow_up_state")
    )
    follow_up_due: Mapped[date | None] = mapped_column(sa.Date)
    institution_note: Mapped[str] = mapped_column(sa.Text, default="")
    institution_noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    operator_note: Mapped[str] = mapped_column(sa.Text, default="")
    operator_noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    consultation: Mapped[Consultation] = relationship(backref=sa.orm.backref("rating", uselist=False))
    institution = relationship("Institution")
