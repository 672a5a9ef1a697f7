"""An institution's application to join (入驻申请, Art. 10–12) and the files it uploads."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column


class ApplicationState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # 待初审
    INFO_REQUESTED = "info_requested"  # 待补充材料
    SITE_VISIT = "site_visit"  # 实地调查
    AWAITING_DECISION = "awaiting_decision"  # 待审定
    APPROVED = "approved"  # 已通过
    REJECTED = "rejected"  # 未通过
    WITHDRAWN = "withdrawn"  # 已撤回

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    ApplicationState.DRAFT: "草稿",
    ApplicationState.SUBMITTED: "待初审",
    ApplicationState.INFO_REQUESTED: "待补充材料",
    ApplicationState.SITE_VISIT: "实地调查",
    ApplicationState.AWAITING_DECISION: "待审定",
    ApplicationState.APPROVED: "已通过",
    ApplicationState.REJECTED: "未通过",
    ApplicationState.WITHDRAWN: "已撤回",
}

# States in which the applicant may edit its data in the wizard.
EDITABLE_STATES = (ApplicationState.DRAFT, ApplicationState.INFO_REQUESTED)


class Application(db.Model):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"))
    state: Mapped[ApplicationState] = mapped_column(
        enum_column(ApplicationState, name="application_state"), default=ApplicationState.DRAFT, index=True
    )
    # The wizard's data as a plain dict (qzt.onboarding.draft); replaced whole on every save.
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    step: Mapped[int] = mapped_column(default=1)  # the step the applicant last worked on
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    # Copied from `data` on every save, so the staff queue can filter and search in SQL.
    name: Mapped[str] = mapped_column(sa.String(200), default="", index=True)
    uscc: Mapped[str] = mapped_column(sa.String(20), default="", index=True)
    district: Mapped[str] = mapped_column(sa.String(32), default="")
    categories: Mapped[str] = mapped_column(sa.String(400), default="")  # " slug slug " for LIKE '% slug %'
    # Review (Art. 11): who works on it, what was asked, the site visit, the operator's recommendation.
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    info_request: Mapped[str] = mapped_column(sa.Text, default="")
    info_deadline: Mapped[date | None] = mapped_column(sa.Date)
    site_visit_on: Mapped[date | None] = mapped_column(sa.Date)
    site_visit_note: Mapped[str] = mapped_column(sa.Text, default="")
    site_visit_result: Mapped[str] = mapped_column(sa.Text, default="")
    recommendation: Mapped[str | None] = mapped_column(sa.String(20))  # "approve" / "reject"
    recommendation_reason: Mapped[str] = mapped_column(sa.Text, default="")
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: two people saving the same application cannot overwrite each other.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    applicant = relationship("User", foreign_keys=[applicant_id])
    assignee = relationship("User", foreign_keys=[assignee_id])
    institution = relationship("Institution")
    revisions: Mapped[list["ApplicationRevision"]] = relationship(
        back_populates="application", order_by="ApplicationRevision.number", cascade="all, delete-orphan"
    )

    @classmethod
    def of(cls, user) -> "Application | None":
        """The user's one application, if it has started one."""
        return db.session.scalar(sa.select(cls).where(cls.applicant_id == user.id))

    def is_overdue(self, today: date) -> bool:
        """Art. 11: the applicant let the deadline for more information pass."""
        return (
            self.state == ApplicationState.INFO_REQUESTED
            and self.info_deadline is not None
            and self.info_deadline < today
        )

    def sync_summary(self) -> None:
        """Refresh the queue columns from `data`."""
        basic = self.data.get("basic", {})
        self.name = (basic.get("name") or "")[:200]
        self.uscc = (basic.get("uscc") or "").upper()[:20]
        self.district = (basic.get("district") or "")[:32]
        slugs = sorted({s.get("category") for s in self.data.get("services", []) if s.get("category")})
        self.categories = f" {' '.join(slugs)} " if slugs else ""

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def number(self) -> str:
        """申请编号, what the applicant quotes on the phone: fixed from creation."""
        return f"QZT-{self.id:06d}"


class ApplicationRevision(db.Model):
    """What the applicant submitted, each time it submitted: reviewers compare revisions."""

    __tablename__ = "application_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    data: Mapped[dict] = mapped_column(sa.JSON)
    snapshot_sha256: Mapped[str] = mapped_column(sa.String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    application: Mapped[Application] = relationship(back_populates="revisions")


class StoredFile(db.Model):
    """An accepted upload. Its bytes live in qzt.core.storage under `key`; rows are never deleted."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    mime: Mapped[str] = mapped_column(sa.String(50))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
