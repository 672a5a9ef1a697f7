"""The directory's search and filters, the same results on SQLite (FTS5) and PostgreSQL (GIN).

Documents go through one tokenizer (qzt.rules.search_terms), queries through one reading of what they
mean (qzt.rules.search_query: words, synonyms); each database only answers "which institutions hold
every word", in the name or anywhere. Ranking is ours: a match in the name first, then by id, so both
databases order results identically. When no institution holds every word, those holding most of them
come instead, and the page says so.
"""

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from qzt.core import pagecache
from qzt.core.database import listen
from qzt.data.catalog import CATEGORY_NAMES
from qzt.extensions import db
from qzt.models import Institution, ListingState, Qualification, SearchDocument, ServiceItem
from qzt.rules import search_query
from qzt.rules.search_query import Word, pinyin_terms
from qzt.rules.search_terms import index_terms


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
    words: tuple[Word, ...] = ()
    # No institution held every word: these hold most of them.
    partial: bool = False
    # (word, its synonyms) for the words whose synonyms found more than the word alone.
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # On no result: a query that finds something, one word corrected, and categories to look in.
    correction: str | None = None
    categories: list[str] = field(default_factory=list)

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
    name_terms = list(dict.fromkeys(index_terms(name) + pinyin_terms(name)))
    categories = {item.category_name for item in institution.services if item not in gone}
    doc = institution.search_document
    if doc is None:
        doc = institution.search_document = SearchDocument()
    doc.name_terms = " ".join(name_terms)
    # Name terms are repeated in the body so that "anywhere" is one column to query.
    listed = [LISTED_TERM] if institution.listing_state == ListingState.LISTED else []
    category_terms = [t for c in sorted(categories) for t in pinyin_terms(c)]
    doc.body_terms = " ".join(dict.fromkeys(name_terms + index_terms(body) + category_terms + listed))


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


def reindex_all(batch: int = 500) -> int:
    """Rewrite every institution's search document (after the tokenizer or the vocabulary changed),
    committing each batch; the number of institutions."""
    done, last_id = 0, 0
    while True:
        chunk = db.session.scalars(
            sa.select(Institution)
            .where(Institution.id > last_id)
            .order_by(Institution.id)
            .limit(batch)
            .options(
                selectinload(Institution.services),
                selectinload(Institution.qualifications),
                selectinload(Institution.search_document),
            )
        ).all()
        if not chunk:
            return done
        for institution in chunk:
            index_institution(institution)
        db.session.commit()
        done, last_id = done + len(chunk), chunk[-1].id


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
    query_words = search_query.words(filters.q)
    start = (page - 1) * per_page
    if not query_words:
        if filters.q.strip():  # only punctuation or symbols: nothing can match
            return Page(items=[], total=0, page=page, per_page=per_page)
        stmt = _listed(filters)
        total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
        ids = list(db.session.scalars(stmt.offset(start).limit(per_page)))
        return Page(items=_by_ids(ids), total=total, page=page, per_page=per_page)

    ids, total = _matching(_index(query_words), filters, start, per_page)
    details: dict = {"words": query_words}
    if total:
        details["synonyms"] = _synonyms_used(query_words, filters, total)
    elif len(query_words) > 1:
        ids, total = _most_words(query_words, filters, start, per_page)
        details["partial"] = total > 0
    if not total:
        details["correction"] = corrected = _correction(query_words, filters)
        meant = search_query.words(corrected) if corrected else query_words
        details["categories"] = search_query.suggest_categories(meant, CATEGORY_NAMES)
    return Page(items=_by_ids(ids), total=total, page=page, per_page=per_page, **details)


def _index(query_words: tuple[Word, ...], synonyms: bool = True):
    sets = [word.term_sets(synonyms) for word in query_words]
    return _SqliteIndex(sets) if db.engine.dialect.name == "sqlite" else _PostgresIndex(sets)


def _matching(index, filters: Filters, start: int, per_page: int) -> tuple[list[int], int]:
    """The page's ids and the number of matches."""
    if filters.category or filters.district:
        ranked = _filtered(index, filters)
        return ranked[start : start + per_page], len(ranked)
    # The common case, a query without filters: the index alone answers, page by page, thanks to
    # LISTED_TERM, without touching the institutions table or sorting every match of a common word.
    total, named = index.count("all"), index.count("named")
    ids = index.ids("named", start, min(per_page, named - start)) if start < named else []
    ids += index.ids("rest", max(0, start - named), per_page - len(ids))
    return ids, total


def _count(index, filters: Filters) -> int:
    if filters.category or filters.district:
        stmt = _listed(filters).where(Institution.id.in_(index.subquery("all"))).order_by(None)
        return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    return index.count("all")


def _filtered(index, filters: Filters) -> list[int]:
    """A query with filters: one statement returns the filtered candidates that match, each flagged
    whether its name matches; the database intersects, only the survivors come back."""
    rows = _filtered_rows(index, filters)
    return [i for i, named in rows if named] + [i for i, named in rows if not named]


def _filtered_rows(index, filters: Filters) -> list[tuple[int, bool]]:
    """(id, whether the name matches) of the filtered candidates that match, by id."""
    stmt = _listed(filters).where(Institution.id.in_(index.subquery("all")))
    stmt = stmt.add_columns(Institution.id.in_(index.subquery("named")))
    return [tuple(row) for row in db.session.execute(stmt)]


def _synonyms_used(query_words: tuple[Word, ...], filters: Filters, total: int) -> tuple:
    """The words whose synonyms were searched too, when that found more than the words alone."""
    expanded = tuple((w.text, w.synonyms) for w in query_words if w.synonyms)
    if not expanded or total == _count(_index(query_words, synonyms=False), filters):
        return ()
    return expanded


def _most_words(query_words: tuple[Word, ...], filters: Filters, start: int, per_page: int):
    """No institution holds every word: those holding the most of them, most first, then as usual."""
    held: Counter[int] = Counter()
    named: set[int] = set()
    for word in query_words:
        index = _index((word,))
        if filters.category or filters.district:
            rows = _filtered_rows(index, filters)
            held.update(i for i, _ in rows)
            named.update(i for i, in_name in rows if in_name)
        else:
            in_name = index.ids("named")
            held.update(in_name + index.ids("rest"))
            named.update(in_name)
    ranked = sorted(held, key=lambda id_: (-held[id_], id_ not in named, id_))
    return ranked[start : start + per_page], len(ranked)


def _correction(query_words: tuple[Word, ...], filters: Filters) -> str | None:
    """The query with one misspelt word replaced by the field's word it sounds like, if that finds
    something."""
    known = search_query.vocabulary()
    for word in query_words:
        better = search_query.correction(word.text, known)
        if better:
            corrected = " ".join(better if w is word else w.text for w in query_words)
            if _count(_index(search_query.words(corrected)), filters):
                return corrected
    return None


def _by_ids(ids: list[int]) -> list[Institution]:
    if not ids:
        return []
    rows = db.session.scalars(
        sa.select(Institution).where(Institution.id.in_(ids)).options(selectinload(Institution.services))
    )
    by_id = {i.id: i for i in rows}
    return [by_id[i] for i in ids if i in by_id]


class _SqliteIndex:
    """FTS5 over the term columns: for each word, one of its alternatives' terms all present."""

    def __init__(self, term_sets: list[list[list[str]]]):
        words = " AND ".join(
            "(" + " OR ".join("(" + " ".join(f'"{t}"' for t in terms) + ")" for terms in sets) + ")"
            for sets in term_sets
        )
        listed = f'body_terms : "{LISTED_TERM}"'
        self.match = {
            "all": f"body_terms : ({words}) AND {listed}",
            "named": f"name_terms : ({words}) AND {listed}",
            "rest": f"(body_terms : ({words}) AND {listed}) NOT name_terms : ({words})",
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
    """GIN over the term arrays: for each word, the array holds one of its alternatives' terms."""

    BODY = "string_to_array(body_terms, ' ')"
    NAME = "string_to_array(name_terms, ' ')"

    def __init__(self, term_sets: list[list[list[str]]]):
        self.term_sets = term_sets

    def _words(self, column: str, prefix: str) -> tuple[str, dict]:
        """Every word held by `column`, each alternative a bound array parameter."""
        clauses, params = [], {}
        for w, sets in enumerate(self.term_sets):
            names = [f"{prefix}_{w}_{a}" for a in range(len(sets))]
            params |= dict(zip(names, sets, strict=True))
            clauses.append("(" + " OR ".join(f"{column} @> CAST(:{n} AS text[])" for n in names) + ")")
        return " AND ".join(clauses), params

    def _where(self, which: str) -> tuple[str, dict]:
        """The condition, with parameter names of its own so that two can share one statement. It is built
        from fixed fragments only, every value bound: hence the nosec B608 where it is used."""
        body, body_params = self._words(self.BODY, f"body_{which}")
        name, name_params = self._words(self.NAME, f"name_{which}")
        listed = f"{self.BODY} @> CAST(:listed_{which} AS text[])"
        params = {f"listed_{which}": [LISTED_TERM]}
        if which == "all":
            return f"{body} AND {listed}", body_params | params
        if which == "named":
            return f"{name} AND {listed}", name_params | params
        return f"{body} AND {listed} AND NOT ({name})", body_params | name_params | params

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


@pagecache.memoized
def category_counts() -> dict[str, int]:
    """Listed institutions per category (an institution counts once in each of its categories)."""
    stmt = (
        sa.select(ServiceItem.category, sa.func.count(sa.distinct(ServiceItem.institution_id)))
        .join(Institution)
        .where(Institution.listing_state == ListingState.LISTED)
        .group_by(ServiceItem.category)
    )
    return dict(db.session.execute(stmt).all())


@pagecache.memoized
def listed_count() -> int:
    stmt = sa.select(sa.func.count()).where(Institution.listing_state == ListingState.LISTED)
    return db.session.scalar(stmt) or 0
