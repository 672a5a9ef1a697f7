"""A service institution (入驻机构) and what its homepage shows."""

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.data.catalog import CATEGORY_NAMES, CATEGORY_ORDER, DISTRICT_NAMES, ORG_TYPE_NAMES
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column
from qzt.models.user import User


class ListingState(enum.StrEnum):
    """Whether the institution shows in the directory (Art. 10, 12, 17)."""

    PENDING = "pending"  # applicant, not yet admitted
    LISTED = "listed"
    HIDDEN = "hidden"  # Art. 17: no service item or agent after a month; or hidden by staff
    WITHDRAWN = "withdrawn"  # Art. 12: left at its own request
    EXPELLED = "expelled"  # Art. 12(2), 17: 清退
    REMOVED = "removed"  # Art. 12(3): 清理, e.g. the institution no longer exists

    @property
    def label(self) -> str:
        return {
            "pending": "待入驻",
            "listed": "已公示",
            "hidden": "已隐藏",
            "withdrawn": "已退出",
            "expelled": "已清退",
            "removed": "已清理",
        }[self.value]


class OrgType(enum.StrEnum):
    PROFESSIONAL = "professional"
    UNIVERSITY = "university"
    RESEARCH = "research"
    ENTERPRISE = "enterprise"

    @property
    def label(self) -> str:
        return ORG_TYPE_NAMES[self.value]


@dataclass
class ServiceRecord:
    category: str  # slug
    title: str
    content: str = ""
    featured: bool = False
    position: int = 0


@dataclass
class QualificationRecord:
    name: str
    number: str | None = None
    issuer: str | None = None
    valid_until: date | None = None


@dataclass
class AgentRecord:
    name: str
    phone: str
    hours: str | None = None


@dataclass
class InstitutionRecord:
    """An institution as plain data: an import row, a demo institution, an approved application.

    None means "not given": an import names no address, qualifications or agents, and updating an
    institution from it keeps the ones it has."""

    name: str
    uscc: str
    district: str  # slug
    introduction: str = ""
    phone: str | None = None
    opened_on: date | None = None
    address: str | None = None
    legal_representative: str | None = None
    org_type: str | None = None  # an OrgType value
    services: list[ServiceRecord] = field(default_factory=list)
    qualifications: list[QualificationRecord] | None = None
    agents: list[AgentRecord] | None = None


def display_order(services: list[ServiceRecord]) -> list[ServiceRecord]:
    """The order Institution.services loads in (featured first, then position), so ids follow it."""
    return sorted(services, key=lambda s: (not s.featured, s.position))


def institution_columns(record: InstitutionRecord) -> dict:
    """The institution row's own columns from a record: the one mapping for the ORM and bulk inserts."""
    return {
        "name": record.name,
        "uscc": record.uscc,
        "legal_representative": record.legal_representative,
        "org_type": OrgType(record.org_type) if record.org_type else None,
        "district": record.district,
        "address": record.address,
        "introduction": record.introduction,
        "phone": record.phone,
        "opened_on": record.opened_on,
    }


# Columns an update leaves alone when the record does not give them.
_OPTIONAL = ("legal_representative", "org_type", "address")


class Institution(db.Model):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    legal_representative: Mapped[str | None] = mapped_column(sa.String(100))
    org_type: Mapped[OrgType | None] = mapped_column(enum_column(OrgType, name="org_type"))
    district: Mapped[str] = mapped_column(sa.String(32), index=True)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    introduction: Mapped[str] = mapped_column(sa.Text, default="")
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    listing_state: Mapped[ListingState] = mapped_column(
        enum_column(ListingState, name="listing_state"), default=ListingState.PENDING, index=True
    )
    # 服务开通时间: the assessment cycle and its grace period count from it (Art. 16).
    opened_on: Mapped[date | None] = mapped_column(sa.Date)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    # Hidden by Art. 17's one-month rule (listed again by itself once it complies), not by staff.
    hidden_by_rule: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Expelled or removed: when, and for which Art. 17 cause (qzt.rules.sanctions), for the 410 page.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_cause: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    services: Mapped[list["ServiceItem"]] = relationship(
        back_populates="institution",
        cascade="all, delete-orphan",
        order_by="(ServiceItem.featured.desc(), ServiceItem.position, ServiceItem.id)",
    )
    qualifications: Mapped[list["Qualification"]] = relationship(
        back_populates="institution", cascade="all, delete-orphan", order_by="Qualification.id"
    )
    agents: Mapped[list["ServiceAgent"]] = relationship(
        back_populates="institution", cascade="all, delete-orphan", order_by="ServiceAgent.id"
    )
    search_document: Mapped["SearchDocument | None"] = relationship(cascade="all, delete-orphan")

    def answering_users(self) -> list[User]:
        """Who answers for it: its own account and its agents' logins, those switched on."""
        ids = [i for i in (self.owner_id, *(a.user_id for a in self.agents)) if i]
        return list(db.session.scalars(sa.select(User).where(User.id.in_(ids), User.active))) if ids else []

    def apply(self, record: InstitutionRecord) -> None:
        """Write a record into this institution: its columns, service items, and the qualifications and
        agents where the record gives them. Import, demo data and approval all write through here."""
        for name, value in institution_columns(record).items():
            if value is not None or name not in _OPTIONAL:
                setattr(self, name, value)
        self.services = [
            ServiceItem(
                category=s.category,
                title=s.title,
                content=s.content,
                featured=s.featured,
                position=s.position,
            )
            for s in display_order(record.services)
        ]
        if record.qualifications is not None:
            self.qualifications = [
                Qualification(name=q.name, number=q.number, issuer=q.issuer, valid_until=q.valid_until)
                for q in record.qualifications
            ]
        if record.agents is not None:
            self.agents = [ServiceAgent(name=a.name, phone=a.phone, hours=a.hours) for a in record.agents]

    @property
    def district_name(self) -> str:
        return DISTRICT_NAMES.get(self.district, self.district)

    @property
    def category_slugs(self) -> list[str]:
        """The categories of its service items, in the regulation's order."""
        return sorted({s.category for s in self.services}, key=lambda c: CATEGORY_ORDER.get(c, 99))

    @property
    def is_listed(self) -> bool:
        return self.listing_state == ListingState.LISTED

    def services_by_category(self) -> list[tuple[str, list["ServiceItem"]]]:
        """Groups for the homepage: categories holding a featured item first, featured items first."""
        groups: dict[str, list[ServiceItem]] = {}
        for item in self.services:
            groups.setdefault(item.category, []).append(item)

        def key(slug: str) -> tuple[bool, int]:
            return (not any(i.featured for i in groups[slug]), CATEGORY_ORDER.get(slug, 99))

        return [(slug, groups[slug]) for slug in sorted(groups, key=key)]


class _InstitutionPart:
    """A row of an institution's homepage, deleted with it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )


class ServiceItem(_InstitutionPart, db.Model):
    """服务项目; 2–3 of them are the institution's featured items (优势服务项目, Art. 7)."""

    __tablename__ = "service_items"

    category: Mapped[str] = mapped_column(sa.String(32), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    content: Mapped[str] = mapped_column(sa.Text, default="")
    featured: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    institution: Mapped[Institution] = relationship(back_populates="services")

    @property
    def category_name(self) -> str:
        return CATEGORY_NAMES.get(self.category, self.category)


class Qualification(_InstitutionPart, db.Model):
    """资质证书, valid until a date (Art. 5)."""

    __tablename__ = "qualifications"

    name: Mapped[str] = mapped_column(sa.String(200))
    number: Mapped[str | None] = mapped_column(sa.String(100))
    issuer: Mapped[str | None] = mapped_column(sa.String(200))
    valid_until: Mapped[date | None] = mapped_column(sa.Date)

    institution: Mapped[Institution] = relationship(back_populates="qualifications")

    def is_expired(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today


class ServiceAgent(_InstitutionPart, db.Model):
    """客服人员: 1–2 per institution (Art. 6, 14)."""

    __tablename__ = "service_agents"

    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(20))
    hours: Mapped[str | None] = mapped_column(sa.String(100))
    # The agent's own login (Role.AGENT); removing the agent keeps the account, switched off, and its replies.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)

    institution: Mapped[Institution] = relationship(back_populates="agents")


class SearchDocument(db.Model):
    """An institution's text as search terms (qzt.rules.search_terms), indexed per database.

    SQLite mirrors it into FTS5 tables by triggers (search_fts over every field; search_fts_name and
    search_fts_head over one each); PostgreSQL has GIN indexes on the term arrays. Both are created in
    the migrations.
    """

    __tablename__ = "search_documents"

    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    name_terms: Mapped[str] = mapped_column(sa.Text, default="")
    # The name and the featured service titles; then every service too (qzt.rules.search_query
    # .document_terms): the fields search ranks by.
    head_terms: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    service_terms: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    body_terms: Mapped[str] = mapped_column(sa.Text, default="")
    # The terms every search requires (listed, category, district), also in the body: PostgreSQL tests
    # them here, on a few bytes kept in the row (migration 0022).
    tag_terms: Mapped[str] = mapped_column(sa.Text, default="", server_default="")


class ChangeState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {"pending": "待审核", "accepted": "已通过", "returned": "已退回"}[self.value]


class HomepageChange(db.Model):
    """变更审核 (Art. 13): a change to the homepage that goes live only once the operator accepts it: a new
    name, or a new qualification certificate. Everything else an institution edits goes live at once."""

    __tablename__ = "homepage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # "name" or "qualification"
    payload: Mapped[dict] = mapped_column(sa.JSON)
    state: Mapped[ChangeState] = mapped_column(
        enum_column(ChangeState, name="change_state"), default=ChangeState.PENDING
    )
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    institution: Mapped[Institution] = relationship()

    @property
    def kind_label(self) -> str:
        return {"name": "机构名称", "qualification": "资质证书"}.get(self.kind, self.kind)
