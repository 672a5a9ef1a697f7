"""The directory's search and filters, the same results on SQLite (FTS5) and PostgreSQL (GIN).

Documents and queries go through one tokenizer (qzt.rules.search_terms); each database only
answers "which institutions hold all these terms", in the name or anywhere. Ranking is ours:
a match in the name first, then by id, so both databases order results identically.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.extensions import db
from qzt.models import Institution, ListingState, SearchDocument, ServiceItem
from qzt.rules.search_terms import index_terms, query_terms


@dataclass(frozen=True)
class Filters:
    q: str = ""
    category: str | None = None
    district: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[Institution]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def document_text(institution: Institution) -> tuple[str, str]:
    """The name, and everything else that is searched: services, introduction, qualifications."""
    body = [institution.introduction or ""]
    for item in institution.services:
        body += [item.category_name, item.title, item.content or ""]
    body += [q.name for q in institution.qualifications]
    return institution.name, "\n".join(body)


def index_institution(institution: Institution) -> None:
    """Write the institution's search document; call after its text changed, before commit."""
    name, body = document_text(institution)
    name_terms = index_terms(name)
    doc = db.session.get(SearchDocument, institution.id)
    if doc is None:
        doc = SearchDocument(institution_id=institution.id)
        db.session.add(doc)
    doc.name_terms = " ".join(name_terms)
    # Name terms are repeated in the body so that "anywhere" is one column to query.
    doc.body_terms = " ".join(dict.fromkeys(name_terms + index_terms(body)))


def _matching_ids(terms: list[str], column: str, param: str) -> sa.TextClause:
    """A subquery of the institution ids whose `column` holds every term."""
    if db.engine.dialect.name == "postgresql":
        sql = (
            f"SELECT institution_id FROM search_documents "
            f"WHERE string_to_array({column}, ' ') @> CAST(:{param} AS text[])"
        )
        return sa.text(sql).bindparams(sa.bindparam(param, terms)).columns(institution_id=sa.Integer)
    # FTS5: quoted terms are ANDed; the column filter limits them to one column.
    match = f"{column} : (" + " ".join(f'"{t}"' for t in terms) + ")"
    sql = f"SELECT rowid FROM search_fts WHERE search_fts MATCH :{param}"
    return sa.text(sql).bindparams(sa.bindparam(param, match)).columns(rowid=sa.Integer)


def _filtered(filters: Filters) -> tuple[sa.Select, sa.ColumnElement | None]:
    """Listed institutions matching the filters, and the condition "the name matches" (None: no query)."""
    stmt = sa.select(Institution).where(Institution.listing_state == ListingState.LISTED)
    if filters.district:
        stmt = stmt.where(Institution.district == filters.district)
    if filters.category:
        stmt = stmt.where(Institution.services.any(ServiceItem.category == filters.category))
    terms = query_terms(filters.q)
    if not terms:
        # No query lists everything; a query of punctuation or symbols only matches nothing.
        return (stmt.where(sa.false()) if filters.q.strip() else stmt), None
    stmt = stmt.where(Institution.id.in_(_matching_ids(terms, "body_terms", "q_any")))
    return stmt, Institution.id.in_(_matching_ids(terms, "name_terms", "q_name"))


def _rows(stmt: sa.Select, offset: int, limit: int) -> list[Institution]:
    if limit <= 0:
        return []
    query = stmt.order_by(Institution.id).options(selectinload(Institution.services)).offset(offset).limit(limit)
    return list(db.session.scalars(query))


def search(filters: Filters, page: int = 1, per_page: int = 20) -> Page:
    """One page of listed institutions matching the filters, in ranking order: name matches first, then
    the rest, each by id. Two id-ordered queries rather than one sorted by rank: the database can stop
    after a page instead of sorting every match of a common word."""
    stmt, name_hit = _filtered(filters)
    start = (page - 1) * per_page
    if name_hit is None:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
        return Page(items=_rows(stmt, start, per_page), total=total, page=page, per_page=per_page)
    total, named = _counts(stmt, name_hit)
    items = _rows(stmt.where(name_hit), start, min(per_page, named - start))
    items += _rows(stmt.where(~name_hit), max(0, start - named), per_page - len(items))
    return Page(items=items, total=total, page=page, per_page=per_page)


def _counts(stmt: sa.Select, name_hit: sa.ColumnElement) -> tuple[int, int]:
    """All matches, and how many of them match by name, in one pass."""
    flagged = stmt.with_only_columns(sa.case((name_hit, 1), else_=0).label("named")).subquery()
    row = db.session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(flagged.c.named), 0))).one()
    return row[0], int(row[1])


def category_counts() -> dict[str, int]:
    """Listed institutions per category (an institution counts once in each of its categories)."""
    stmt = (
        sa.select(ServiceItem.category, sa.func.count(sa.distinct(ServiceItem.institution_id)))
        .join(Institution)
        .where(Institution.listing_state == ListingState.LISTED)
        .group_by(ServiceItem.category)
    )
    return dict(db.session.execute(stmt).all())


def listed_count() -> int:
    stmt = sa.select(sa.func.count()).where(Institution.listing_state == ListingState.LISTED)
    return db.session.scalar(stmt) or 0
