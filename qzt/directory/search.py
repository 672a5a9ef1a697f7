"""The directory's search and filters, the same results on SQLite (FTS5) and PostgreSQL (GIN).

Documents and queries go through one tokenizer (qzt.rules.search_terms); each database only
answers "which institutions hold all these terms", in the name or anywhere. Ranking is ours:
a match in the name first, then by id, so both databases order results identically.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.core.database import listen
from qzt.extensions import db
from qzt.models import Institution, ListingState, Qualification, SearchDocument, ServiceItem
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


def document_text(institution: Institution, gone=()) -> tuple[str, str]:
    """The name, and everything else that is searched: services, introduction, qualifications
    (leaving out the rows in `gone`, deleted in the flush under way)."""
    body = [institution.introduction or ""]
    for item in institution.services:
        if item not in gone:
            body += [item.category_name, item.title, item.content or ""]
    body += [q.name for q in institution.qualifications if q not in gone]
    return institution.name, "\n".join(body)


# A term only listed institutions' documents hold, so the index alone answers "listed and matching".
# Nobody types it; at worst a query for it lists the directory.
LISTED_TERM = "qztlisted0"


def index_institution(institution: Institution, gone=()) -> None:
    """Write the institution's search document. Flushes do it by themselves (_reindex_changed)."""
    name, body = document_text(institution, gone)
    name_terms = index_terms(name)
    doc = institution.search_document
    if doc is None:
        doc = institution.search_document = SearchDocument()
    doc.name_terms = " ".join(name_terms)
    # Name terms are repeated in the body so that "anywhere" is one column to query.
    listed = [LISTED_TERM] if institution.listing_state == ListingState.LISTED else []
    doc.body_terms = " ".join(dict.fromkeys(name_terms + index_terms(body) + listed))


def _reindex_changed(session, _context, _instances) -> None:
    """Before every flush: re-index each institution whose searched text or listing state changes, so
    that every writer (import, approval, homepage upkeep, sanctions) keeps the index right."""
    changed: set[Institution] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Institution) and (obj in session.new or session.is_modified(obj)):
            changed.add(obj)
        elif isinstance(obj, ServiceItem | Qualification) and obj.institution is not None:
            changed.add(obj.institution)
    for institution in changed:
        if institution not in session.deleted:
            index_institution(institution, gone=session.deleted)


def init_app(app) -> None:
    listen(sa.orm.Session, "before_flush", _reindex_changed)


def _listed(filters: Filters) -> sa.Select:
    """Ids of listed institutions in the chosen category and district, by id."""
    stmt = sa.select(Institution.id).where(Institution.listing_state == ListingState.LISTED)
    if filters.district:
        stmt = stmt.where(Institution.district == filters.district)
    if filters.category:
        # IN rather than a correlated EXISTS: the category index yields the few ids at once.
        in_category = sa.select(ServiceItem.institution_id).where(ServiceItem.category == filters.category)
        stmt = stmt.where(Institution.id.in_(in_category))
    return stmt.order_by(Institution.id)


def search(filters: Filters, page: int = 1, per_page: int = 20) -> Page:
    """One page of listed institutions matching the filters, in ranking order: name matches first, then
    the rest, each by id (the same order on both databases)."""
    terms = query_terms(filters.q)
    start = (page - 1) * per_page
    if not terms:
        if filters.q.strip():  # only punctuation or symbols: nothing can match
            return Page(items=[], total=0, page=page, per_page=per_page)
        stmt = _listed(filters)
        total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
        ids = list(db.session.scalars(stmt.offset(start).limit(per_page)))
        return Page(items=_by_ids(ids), total=total, page=page, per_page=per_page)
    index = _SqliteIndex(terms) if db.engine.dialect.name == "sqlite" else _PostgresIndex(terms)
    if filters.category or filters.district:
        return _search_filtered(index, filters, start, page, per_page)
    # The common case, a query without filters: the index alone answers, page by page, thanks to
    # LISTED_TERM, without touching the institutions table or sorting every match of a common word.
    total, named = index.count("all"), index.count("named")
    ids = index.ids("named", start, min(per_page, named - start)) if start < named else []
    ids += index.ids("rest", max(0, start - named), per_page - len(ids))
    return Page(items=_by_ids(ids), total=total, page=page, per_page=per_page)


def _search_filtered(index, filters: Filters, start: int, page: int, per_page: int) -> Page:
    """A query with filters: one statement returns the filtered candidates that match, each flagged
    whether its name matches; the database intersects, only the survivors come back."""
    stmt = _listed(filters).where(Institution.id.in_(index.subquery("all")))
    stmt = stmt.add_columns(Institution.id.in_(index.subquery("named")))
    rows = db.session.execute(stmt).all()
    ranked = [i for i, named in rows if named] + [i for i, named in rows if not named]
    return Page(
        items=_by_ids(ranked[start : start + per_page]), total=len(ranked), page=page, per_page=per_page
    )


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

    def subquery(self, which: str) -> sa.TextClause:
        sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH :" + f"m_{which}"  # nosec B608
        return sa.text(sql).bindparams(**{f"m_{which}": self.match[which]}).columns(rowid=sa.Integer)

    def count(self, which: str) -> int:
        sql = "SELECT count(*) FROM search_fts WHERE search_fts MATCH :m"
        return db.session.scalar(sa.text(sql), {"m": self.match[which]}) or 0

    def ids(self, which: str, offset: int = 0, limit: int | None = None) -> list[int]:
        """Matching ids in order, all of them unless a limit is given."""
        if limit is not None and limit <= 0:
            return []
        sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH :m ORDER BY rowid LIMIT :l OFFSET :o"
        params = {"m": self.match[which], "l": -1 if limit is None else limit, "o": offset}
        return list(db.session.scalars(sa.text(sql), params))


class _PostgresIndex:
    BODY = "string_to_array(body_terms, ' ')"
    NAME = "string_to_array(name_terms, ' ')"

    def __init__(self, terms: list[str]):
        self.terms = terms

    def _where(self, which: str) -> tuple[str, dict]:
        """The condition, with parameter names of its own so that two can share one statement. It is built
        from fixed fragments only, every value bound: hence the nosec B608 where it is used."""
        body, name = (
            f"{self.BODY} @> CAST(:body_{which} AS text[])",
            f"{self.NAME} @> CAST(:name_{which} AS text[])",
        )
        with_listed = [*self.terms, LISTED_TERM]
        if which == "all":
            return body, {f"body_{which}": with_listed}
        if which == "named":
            return f"{name} AND {body}", {f"name_{which}": self.terms, f"body_{which}": [LISTED_TERM]}
        return f"{body} AND NOT {name}", {f"body_{which}": with_listed, f"name_{which}": self.terms}

    def subquery(self, which: str) -> sa.TextClause:
        where, params = self._where(which)
        sql = f"SELECT institution_id FROM search_documents WHERE {where}"  # nosec B608
        return sa.text(sql).bindparams(**params).columns(institution_id=sa.Integer)

    def count(self, which: str) -> int:
        where, params = self._where(which)
        sql = f"SELECT count(*) FROM search_documents WHERE {where}"  # nosec B608
        return db.session.scalar(sa.text(sql), params) or 0

    def ids(self, which: str, offset: int = 0, limit: int | None = None) -> list[int]:
        """Matching ids in order, all of them unless a limit is given."""
        if limit is not None and limit <= 0:
            return []
        where, params = self._where(which)
        sql = f"SELECT institution_id FROM search_documents WHERE {where} ORDER BY 1 LIMIT :l OFFSET :o"  # nosec B608
        return list(db.session.scalars(sa.text(sql), {**params, "l": limit, "o": offset}))


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
