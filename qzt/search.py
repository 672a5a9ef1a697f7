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


# A term only listed institutions' documents hold, so the index alone answers "listed and matching".
# Nobody types it; at worst a query for it lists the directory.
LISTED_TERM = "qztlisted0"


def index_institution(institution: Institution) -> None:
    """Write the institution's search document; call after its text changed, before commit.

    Listing-state changes re-index by themselves (see _reindex_on_state_change)."""
    name, body = document_text(institution)
    name_terms = index_terms(name)
    doc = db.session.get(SearchDocument, institution.id)
    if doc is None:
        doc = SearchDocument(institution_id=institution.id)
        db.session.add(doc)
    doc.name_terms = " ".join(name_terms)
    # Name terms are repeated in the body so that "anywhere" is one column to query.
    listed = [LISTED_TERM] if institution.listing_state == ListingState.LISTED else []
    doc.body_terms = " ".join(dict.fromkeys(name_terms + index_terms(body) + listed))


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _reindex_on_state_change(session, _context, _instances) -> None:
    for obj in list(session.dirty):
        if isinstance(obj, Institution) and sa.inspect(obj).attrs.listing_state.history.has_changes():
            index_institution(obj)


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
    query = (
        stmt.order_by(Institution.id).options(selectinload(Institution.services)).offset(offset).limit(limit)
    )
    return list(db.session.scalars(query))


def search(filters: Filters, page: int = 1, per_page: int = 20) -> Page:
    """One page of listed institutions matching the filters, in ranking order: name matches first, then
    the rest, each by id. Two id-ordered queries rather than one sorted by rank: the database can stop
    after a page instead of sorting every match of a common word."""
    terms = query_terms(filters.q)
    if terms and not (filters.category or filters.district):
        return _search_index_only(terms, page, per_page)
    stmt, name_hit = _filtered(filters)
    start = (page - 1) * per_page
    if name_hit is None:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
        return Page(items=_rows(stmt, start, per_page), total=total, page=page, per_page=per_page)
    total, named = _counts(stmt, name_hit)
    items = _rows(stmt.where(name_hit), start, min(per_page, named - start))
    items += _rows(stmt.where(~name_hit), max(0, start - named), per_page - len(items))
    return Page(items=items, total=total, page=page, per_page=per_page)


def _search_index_only(terms: list[str], page: int, per_page: int) -> Page:
    """The common case, a query without filters, answered by the index alone (LISTED_TERM)."""
    index = _SqliteIndex(terms) if db.engine.dialect.name == "sqlite" else _PostgresIndex(terms)
    total, named = index.count("all"), index.count("named")
    start = (page - 1) * per_page
    ids = index.ids("named", start, min(per_page, named - start)) if start < named else []
    ids += index.ids("rest", max(0, start - named), per_page - len(ids))
    return Page(items=_by_ids(ids), total=total, page=page, per_page=per_page)


def _by_ids(ids: list[int]) -> list[Institution]:
    if not ids:
        return []
    rows = db.session.scalars(
        sa.select(Institution).where(Institution.id.in_(ids)).options(selectinload(Institution.services))
    )
    by_id = {i.id: i for i in rows}
    return [by_id[i] for i in ids if i in by_id]


class _SqliteIndex:
    def __init__(self, terms: list[str]):
        quoted = " ".join(f'"{t}"' for t in terms)
        listed = f'body_terms : "{LISTED_TERM}"'
        self.match = {
            "all": f"body_terms : ({quoted}) AND {listed}",
            "named": f"name_terms : ({quoted}) AND {listed}",
            "rest": f"(body_terms : ({quoted}) AND {listed}) NOT name_terms : ({quoted})",
        }

    def count(self, which: str) -> int:
        sql = "SELECT count(*) FROM search_fts WHERE search_fts MATCH :m"
        return db.session.scalar(sa.text(sql), {"m": self.match[which]}) or 0

    def ids(self, which: str, offset: int, limit: int) -> list[int]:
        if limit <= 0:
            return []
        sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH :m ORDER BY rowid LIMIT :l OFFSET :o"
        return list(db.session.scalars(sa.text(sql), {"m": self.match[which], "l": limit, "o": offset}))


class _PostgresIndex:
    BODY = "string_to_array(body_terms, ' ')"
    NAME = "string_to_array(name_terms, ' ')"

    def __init__(self, terms: list[str]):
        self.params = {"terms": terms, "listed": [LISTED_TERM], "all_terms": [*terms, LISTED_TERM]}
        self.where = {
            "all": f"{self.BODY} @> CAST(:all_terms AS text[])",
            "named": f"{self.NAME} @> CAST(:terms AS text[]) AND {self.BODY} @> CAST(:listed AS text[])",
            "rest": f"{self.BODY} @> CAST(:all_terms AS text[]) "
            f"AND NOT {self.NAME} @> CAST(:terms AS text[])",
        }

    def count(self, which: str) -> int:
        sql = f"SELECT count(*) FROM search_documents WHERE {self.where[which]}"
        return db.session.scalar(sa.text(sql), self.params) or 0

    def ids(self, which: str, offset: int, limit: int) -> list[int]:
        if limit <= 0:
            return []
        sql = (
            f"SELECT institution_id FROM search_documents WHERE {self.where[which]} "
            "ORDER BY institution_id LIMIT :l OFFSET :o"
        )
        return list(db.session.scalars(sa.text(sql), {**self.params, "l": limit, "o": offset}))


def _counts(stmt: sa.Select, name_hit: sa.ColumnElement) -> tuple[int, int]:
    """All matches, and how many of them match by name, in one pass."""
    flagged = stmt.with_only_columns(sa.case((name_hit, 1), else_=0).label("named")).subquery()
    row = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(flagged.c.named), 0))
    ).one()
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
