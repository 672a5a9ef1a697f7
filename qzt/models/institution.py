"""A service institution (入驻机构) and what its homepage shows."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.data.catalog import CATEGORY_NAMES, CATEGORY_ORDER, DISTRICT_NAMES, ORG_TYPE_NAMES
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column, utcnow


class ListingState(enum.StrEnum):
    """Whether the institution shows in the directory (Art. 10, 12, 17)."""

    PENDING = "pending"  # applicant, not yet admitted
    LISTED = "listed"
    HIDDEN = "hidden"  # Art. 17: no service item or agent within a month
    WITHDRAWN = "withdrawn"  # Art. 12: left at its own request
    EXPELLED = "expelled"  # Art. 17: 清退


class OrgType(enum.StrEnum):
    PROFESSIONAL = "professional"
    UNIVERSITY = "university"
    RESEARCH = "research"
    ENTERPRISE = "enterprise"

    @property
    def label(self) -> str:
        return ORG_TYPE_NAMES[self.value]


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

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


class ServiceItem(db.Model):
    """服务项目; 2–3 of them are the institution's featured items (优势服务项目, Art. 7)."""

    __tablename__ = "service_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(sa.String(32), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    content: Mapped[str] = mapped_column(sa.Text, default="")
    featured: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    institution: Mapped[Institution] = relationship(back_populates="services")

    @property
    def category_name(self) -> str:
        return CATEGORY_NAMES.get(self.category, self.category)


class Qualification(db.Model):
    """资质证书, valid until a date (Art. 5)."""

    __tablename__ = "qualifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    number: Mapped[str | None] = mapped_column(sa.String(100))
    issuer: Mapped[str | None] = mapped_column(sa.String(200))
    valid_until: Mapped[date | None] = mapped_column(sa.Date)

    institution: Mapped[Institution] = relationship(back_populates="qualifications")

    def is_expired(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today


class ServiceAgent(db.Model):
    """客服人员: 1–2 per institution (Art. 6, 14)."""

    __tablename__ = "service_agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(20))
    hours: Mapped[str | None] = mapped_column(sa.String(100))

    institution: Mapped[Institution] = relationship(back_populates="agents")


class SearchDocument(db.Model):
    """An institution's text as search terms (qzt.rules.search_terms), indexed per database.

    SQLite mirrors it into the FTS5 table search_fts by triggers; PostgreSQL has GIN indexes on
    the term arrays. Both are created in the migration.
    """

    __tablename__ = "search_documents"

    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    name_terms: Mapped[str] = mapped_column(sa.Text, default="")
    body_terms: Mapped[str] = mapped_column(sa.Text, default="")
