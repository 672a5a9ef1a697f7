"""The directory's search and filters, the same results on SQLite (FTS5) and PostgreSQL (GIN).

Documents go through one tokenizer (qzt.rules.search_terms), queries through one reading of what they
mean (qzt.rules.search_query: words, synonyms); each database only answers "which institutions hold
every word" in a field (name, head, services, anywhere). Ranking is ours: by the first field holding
every word (FIELDS), then by id, so both databases order results identically. When no institution holds
every word, those holding the weightiest of them come instead, and the page says so.
"""

import dataclasses
import itertools
import math
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from qzt.core import fragments
from qzt.core.database import listen
from qzt.data.catalog import CATEGORY_NAMES
from qzt.extensions import db
from qzt.models import (
    BucketTally,
    DirectoryTally,
    Institution,
    ListingState,
    Qualification,
    SearchDocument,
    ServiceItem,
    SiteState,
)
from qzt.rules import search_query
from qzt.rules.search_query import ServiceText, Word, document_terms


@dataclass(frozen=True)
class Filters:
    q: str = ""
    category: str | None = None
    district: str | None = None


@dataclass(frozen=True)
class Page:
    ids: list[int]
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
    # More than CAP institutions match: `total` is CAP, and the pages end there.
    capped: bool = False

    @cached_property
    def items(self) -> list[Institution]:
        """The institutions of this page, loaded on first use (a page drawn from the fragment cache
        needs none of them)."""
        return by_ids(self.ids)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# A term only listed institutions' documents hold, so the index alone answers "listed and matching".
# Nobody types it; at worst a query for it lists the directory.
LISTED_TERM = "qztlisted0"

# Bumped when what documents hold changes (tokenizer, vocabulary, fields): `qzt reindex --if-stale`
# then rewrites them. Kept in site_state under this key.
INDEX_VERSION = 5
INDEX_KEY = "search_index"


def _letters(slug: str) -> str:
    return re.sub(r"[^a-z0-9]", "", slug)


def filter_terms(categories, district: str | None) -> list[str]:
    """Terms for the directory's filters, held in the body beside LISTED_TERM, so that the index alone
    answers a filtered search too: qztcatinspection, qztdistshunde, and for both at once
    qztcdinspectionshunde (index version 5: one list to read where two long ones were intersected;
    letters and digits only, as the FTS5 tokenizer keeps them). Nobody types them."""
    slugs = sorted(set(categories))
    terms = [f"qztcat{_letters(slug)}" for slug in slugs]
    if not district:
        return terms
    return [*terms, f"qztdist{_letters(district)}", *(both_term(slug, district) for slug in slugs)]


def both_term(category: str, district: str) -> str:
    """The term for a category and a district at once."""
    return f"qztcd{_letters(category)}{_letters(district)}"


def tag_terms(listed: bool, categories, district: str | None) -> list[str]:
    """The terms a search requires of a document: LISTED_TERM when listed, and the filters'."""
    return ([LISTED_TERM] if listed else []) + filter_terms(categories, district)


def index_institution(institution: Institution, gone=()) -> tuple[str, str]:
    """Write the institution's search document (leaving out the rows in `gone`, deleted in the flush
    under way); its tags before and after, from which the directory's tallies change (tally_change).
    Flushes do it by themselves (_reindex_changed)."""
    services = [
        ServiceText(item.category_name, item.title, item.content or "", item.featured)
        for item in institution.services
        if item not in gone
    ]
    qualifications = [q.name for q in institution.qualifications if q not in gone]
    name, head, offered, body = document_terms(
        institution.name, institution.introduction or "", services, qualifications
    )
    categories = [item.category for item in institution.services if item not in gone]
    tags = tag_terms(institution.listing_state == ListingState.LISTED, categories, institution.district)
    doc = institution.search_document
    if doc is None:
        doc = institution.search_document = SearchDocument()
    before = doc.tag_terms or ""
    doc.name_terms, doc.head_terms = " ".join(name), " ".join(head)
    doc.service_terms, doc.body_terms = " ".join(offered), " ".join(body + tags)
    doc.tag_terms = " ".join(sorted(tags))
    return before, doc.tag_terms


def _reindex_changed(session, _context, _instances) -> None:
    """Before every flush: re-index each institution whose searched text or listing state changes, so
    that every writer (import, approval, homepage upkeep, sanctions) keeps the index and the tallies
    right. The tallies wait for the flush: a new institution has no id (nor bucket) before it."""
    changed: set[Institution] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Institution) and (obj in session.new or session.is_modified(obj)):
            changed.add(obj)
        elif isinstance(obj, ServiceItem | Qualification) and obj.institution is not None:
            changed.add(obj.institution)
    retagged = []
    for institution in changed:
        if institution not in session.deleted:
            before, after = index_institution(institution, gone=session.deleted)
        elif institution.search_document is not None:
            before, after = institution.search_document.tag_terms, ""
        else:
            continue
        if before != after:
            retagged.append((institution, before, after))
    session.info[_RETAGGED_KEY] = retagged  # replaced, not added to: a failed flush's are gone with it


def _retally_flushed(session, _context) -> None:
    """After every flush: the tallies of the institutions whose tags changed in it."""
    retagged = [(inst.id, before, after) for inst, before, after in session.info.pop(_RETAGGED_KEY, ())]
    if retagged:
        retally(session.connection(), retagged)


_RETAGGED_KEY = "qzt_search_retagged"


# The tallies: listed institutions in all and per category, read from the search documents' own terms
# (listed, qztcat...), so that they count exactly what a filtered search finds.
_CATEGORY_OF_TERM = {filter_terms([slug], None)[0]: slug for slug in CATEGORY_NAMES}


def tally_keys(tags: str | None) -> set[str]:
    """The tallies a document with these tags counts in: none unless it is listed."""
    terms = set((tags or "").split())
    if LISTED_TERM not in terms:
        return set()
    prefix = DirectoryTally.CATEGORY_PREFIX
    return {DirectoryTally.LISTED_KEY} | {prefix + s for t, s in _CATEGORY_OF_TERM.items() if t in terms}


def browse_terms(tags: str | None) -> set[str]:
    """The directory terms a document with these tags is browsed by (BucketTally): its tags, when it is
    listed (LISTED_TERM and its filters' terms)."""
    terms = set((tags or "").split())
    return terms if LISTED_TERM in terms else set()


def tally_change(before: set[str], after: set[str]) -> Counter:
    return Counter({**{key: 1 for key in after - before}, **{key: -1 for key in before - after}})


def bucket_change(institution_id: int, before: str | None, after: str | None) -> Counter:
    """The change to the bucket tallies when the institution's tags go from `before` to `after`."""
    bucket = institution_id // BUCKET_SIZE
    change = tally_change(browse_terms(before), browse_terms(after))
    return Counter({(term, bucket): n for term, n in change.items()})


def retally(connection, retagged: list[tuple[int, str | None, str | None]]) -> None:
    """Add to the tallies, in the caller's transaction, what documents going from their tags `before`
    to `after` change: (institution_id, before, after) each."""
    tallies: Counter = Counter()
    per_bucket: Counter = Counter()
    for institution_id, before, after in retagged:
        tallies.update(tally_change(tally_keys(before), tally_keys(after)))
        per_bucket.update(bucket_change(institution_id, before, after))
    add_to_tallies(connection, tallies)
    add_to_bucket_tallies(connection, per_bucket)


def add_to_tallies(connection, changes: Counter) -> None:
    """Add to the tallies in the caller's transaction."""
    _add_counts(connection, DirectoryTally.__table__, ("key",), {(k,): n for k, n in changes.items()})


def add_to_bucket_tallies(connection, changes: Counter) -> None:
    """Add to the tallies per bucket ((term, bucket): change) in the caller's transaction."""
    _add_counts(connection, BucketTally.__table__, ("term", "bucket"), changes)


def _add_counts(connection, table: sa.Table, columns: tuple[str, ...], changes) -> None:
    """One upsert per key (two transactions adding the first of a key cannot both insert it), keys in a
    fixed order, so that two transactions changing the same tallies wait for each other instead of
    deadlocking."""
    insert = _UPSERTS[connection.dialect.name]
    for key in sorted(k for k, d in changes.items() if d):
        stmt = insert(table).values(**dict(zip(columns, key, strict=True)), count=changes[key])
        added = table.c.count + stmt.excluded.count
        connection.execute(stmt.on_conflict_do_update(index_elements=list(columns), set_={"count": added}))


_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def recount_tallies() -> None:
    """Count the tallies afresh (after a reindex, or to repair them): what tally_keys reads from the
    documents, from the rows they are written from; the tallies per bucket from the documents' tags."""
    listed = Institution.listing_state == ListingState.LISTED
    per_category = (
        sa.select(ServiceItem.category, sa.func.count(sa.distinct(ServiceItem.institution_id)))
        .join(Institution)
        .where(listed)
        .group_by(ServiceItem.category)
    )
    counts = {DirectoryTally.CATEGORY_PREFIX + slug: n for slug, n in db.session.execute(per_category)}
    counts[DirectoryTally.LISTED_KEY] = db.session.scalar(sa.select(sa.func.count()).where(listed)) or 0
    db.session.execute(sa.delete(DirectoryTally))
    db.session.execute(sa.insert(DirectoryTally), [{"key": k, "count": n} for k, n in sorted(counts.items())])
    per_bucket: Counter = Counter()
    documents = sa.select(SearchDocument.institution_id, SearchDocument.tag_terms)
    for institution_id, tags in db.session.execute(documents):
        per_bucket.update((term, institution_id // BUCKET_SIZE) for term in browse_terms(tags))
    db.session.execute(sa.delete(BucketTally))
    if per_bucket:
        rows = [{"term": t, "bucket": b, "count": n} for (t, b), n in sorted(per_bucket.items())]
        db.session.execute(sa.insert(BucketTally), rows)


def index_is_current() -> bool:
    """Whether the documents were written by this code's INDEX_VERSION (`qzt reindex` records it)."""
    stored = db.session.scalar(sa.select(SiteState.version).where(SiteState.key == INDEX_KEY))
    return stored == INDEX_VERSION


def reindex_all(batch: int = 500) -> int:
    """Rewrite every institution's search document (after the tokenizer, the vocabulary or the fields
    changed), committing each batch, then record INDEX_VERSION; the number of institutions. The site
    keeps serving meanwhile: each document is replaced in one statement."""
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
            recount_tallies()
            optimize_index()
            _record_index_version()
            return done
        for institution in chunk:
            index_institution(institution)
        db.session.commit()
        done, last_id = done + len(chunk), chunk[-1].id


def optimize_index() -> None:
    """After many writes (a reindex, a bulk load). SQLite: merge the FTS5 index's segments into one, so
    that a query reads one doclist per term rather than one per segment (at 100,000 institutions a
    filtered search went from 115 to 15 ms). PostgreSQL: move the GIN indexes' pending lists (where
    fast updates wait for VACUUM) into the indexes proper: every lookup reads the whole pending list,
    and after `qzt demo --count 1000` search p95 was 27 ms, 8 once moved; then VACUUM the documents."""
    if db.engine.dialect.name == "sqlite":
        for table in ("search_fts", *(f"search_fts_{field}" for field in OWN_TABLES)):
            db.session.execute(sa.text(f"INSERT INTO {table}({table}) VALUES ('optimize')"))  # nosec B608
    else:
        for field in FIELDS:
            index = f"ix_search_documents_{field}_terms"
            db.session.execute(sa.text("SELECT gin_clean_pending_list(CAST(:i AS regclass))"), {"i": index})
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Every document rewritten leaves its old row behind, and a bitmap scan reads both until
        # VACUUM has passed (after a reindex at 100,000, a search was some 60% slower); and the
        # planner's statistics of the new terms. VACUUM runs outside a transaction.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE) search_documents")


def _record_index_version() -> None:
    state = db.session.get(SiteState, INDEX_KEY) or SiteState(key=INDEX_KEY)
    state.version = INDEX_VERSION
    db.session.add(state)
    db.session.commit()


def init_app(app) -> None:
    listen(sa.orm.Session, "before_flush", _reindex_changed)
    listen(sa.orm.Session, "after_flush", _retally_flushed)


def _listed(filters: Filters, below: int, above: int) -> sa.Select:
    """Ids of listed institutions in the chosen category and district, by id, from `below` (included)
    to `above` (excluded)."""
    in_range = (Institution.id >= below) & (Institution.id < above)
    stmt = sa.select(Institution.id).where(Institution.listing_state == ListingState.LISTED, in_range)
    if filters.district:
        stmt = stmt.where(Institution.district == filters.district)
    if filters.category:
        # IN rather than a correlated EXISTS, the range too: the institution index yields the few ids.
        items = ServiceItem.institution_id
        in_category = sa.select(items).where(
            ServiceItem.category == filters.category, items >= below, items < above
        )
        stmt = stmt.where(Institution.id.in_(in_category))
    return stmt.order_by(Institution.id)


def _browse(filters: Filters, page: int, per_page: int) -> Page:
    """A page of the directory without a query: the total and the buckets of ids holding the page read
    from the tallies (BucketTally), then the page's ids among those buckets only, however deep the page
    (OFFSET would walk every row before it)."""
    term = _required(filters)[-1]  # the filters' most specific term, or LISTED_TERM
    counts = db.session.execute(
        sa.select(BucketTally.bucket, BucketTally.count)
        .where(BucketTally.term == term, BucketTally.count > 0)
        .order_by(BucketTally.bucket)
    ).all()
    total = sum(n for _, n in counts)
    start = (page - 1) * per_page
    span = _buckets_holding(counts, start, start + per_page)
    if span is None:
        return Page(ids=[], total=total, page=page, per_page=per_page)
    first, skip, last = span
    stmt = _listed(filters, first * BUCKET_SIZE, (last + 1) * BUCKET_SIZE).offset(skip).limit(per_page)
    return Page(ids=list(db.session.scalars(stmt)), total=total, page=page, per_page=per_page)


def _buckets_holding(counts, start: int, end: int) -> tuple[int, int, int] | None:
    """Of (bucket, count) by bucket: the bucket holding the `start`th match (from 0), how many of its
    matches come before it, and the bucket holding the `end - 1`th (or the last); None past the end."""
    before, first, skip = 0, None, 0
    for bucket, n in counts:
        if first is None and before + n > start:
            first, skip = bucket, start - before
        before += n
        if first is not None and before >= end:
            return first, skip, bucket
    return (first, skip, counts[-1][0]) if first is not None else None


def cached_search(filters: Filters, page: int = 1, per_page: int = 20) -> Page:
    """search(), its result kept while the directory's version holds (the fragment cache's, bumped in
    the same transaction as any change to what the directory shows): a query asked again, by anyone,
    logged in or not, costs no statement but the version's. QZT_SEARCH_CACHE=0 turns it off."""
    if not current_app.config["SEARCH_CACHE"]:
        return search(filters, page, per_page)
    found = fragments.one("search", (filters, page, per_page), lambda: search(filters, page, per_page))
    # A copy for this request: a page's institutions (Page.items) are loaded in this request's session.
    return dataclasses.replace(found)


def search(filters: Filters, page: int = 1, per_page: int = 20) -> Page:
    """One page of listed institutions matching the filters, in ranking order: by the first field that
    holds every word (name, featured services, other services, anywhere), then by id; the same order on
    both databases."""
    query_words = search_query.words(filters.q)
    if not query_words:
        if filters.q.strip():  # only punctuation or symbols: nothing can match
            return Page(ids=[], total=0, page=page, per_page=per_page)
        return _browse(filters, page, per_page)

    details: dict = {"words": query_words}
    required = _required(filters)
    with _index_scans_only():
        return _search_words(filters, query_words, required, page, per_page, details)


def _search_words(filters, query_words, required, page, per_page, details) -> Page:
    start = (page - 1) * per_page
    index = _index(query_words, required)
    alone = found_alone = None
    if any(word.synonyms for word in query_words):
        # The words alone first: when they pass the cap, so do they with their synonyms, uncounted.
        alone = _index(query_words, required, synonyms=False)
        found_alone = alone.count("body", CAP + 1)
        if found_alone > CAP:
            index.counted("body", CAP + 1)
    ids, found = _matching(index, start, per_page)
    total = found
    if total > CAP:
        total, details["capped"] = CAP, True
        ids = ids[: max(0, CAP - start)]  # the pages end at the CAPth result
    if total:
        details["synonyms"] = _synonyms_used(query_words, alone, found_alone, ids, found)
    elif len(query_words) > 1:
        ids, total = _most_words(query_words, required, start, per_page)
        details["partial"] = total > 0
    if not total:
        details["correction"] = corrected = _correction(query_words, required)
        meant = search_query.words(corrected) if corrected else query_words
        details["categories"] = search_query.suggest_categories(meant, CATEGORY_NAMES)
    return Page(ids=ids, total=total, page=page, per_page=per_page, **details)


@contextmanager
def _index_scans_only():
    """PostgreSQL: the search's statements planned for their own values, answered by the indexes
    (bitmaps), never by a scan testing rows one by one.

    The term columns live out of the row (migration 0022), so a scan testing them row by row fetches
    and decompresses each; the planner does not count that and would pick such a scan (sequential, or
    along the primary key) for a LIMITed count or the first ids of a common word. And a statement run
    often is prepared (psycopg), after which PostgreSQL may settle on one generic plan for every value:
    one plan cannot fit both a word in most names and a rare one. No JIT: a statement the settings
    make look costly would spend 100 ms or more compiling. No parallel workers: starting two costs
    some 10 ms, more than the statements take. Set for the transaction and set back at the end, in
    one round trip each."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    # The highest document id too, planned before the settings change: read backwards from the key.
    db.session.info[_LAST_ID_KEY] = db.session.execute(
        sa.text(
            "SELECT (SELECT max(institution_id) FROM search_documents), "
            "set_config('enable_seqscan', 'off', true), set_config('plan_cache_mode', :p, true), "
            "set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true), "
            "set_config('enable_indexscan', 'off', true)"
        ),
        {"p": "force_custom_plan"},
    ).scalar()
    try:
        yield
    finally:
        db.session.info.pop(_LAST_ID_KEY, None)
        # Back to what the session had: the app never SETs these for a session, so its value is the
        # default (server, database or role), and one round trip without parameters sets them all.
        db.session.execute(sa.text(" ".join(f"SET LOCAL {name} TO DEFAULT;" for name in _PLANNER_SETTINGS)))


_PLANNER_SETTINGS = (
    "enable_seqscan",
    "plan_cache_mode",
    "jit",
    "max_parallel_workers_per_gather",
    "enable_indexscan",
)


_LAST_ID_KEY = "qzt_search_last_id"


def _required(filters: Filters) -> list[str]:
    """The terms every result's document holds: listed, and in the chosen category and district (one
    term for both)."""
    if filters.category and filters.district:
        return [LISTED_TERM, both_term(filters.category, filters.district)]
    return [LISTED_TERM, *filter_terms([filters.category] if filters.category else [], filters.district)]


def _index(query_words: tuple[Word, ...], required: list[str], synonyms: bool = True):
    sets = [word.term_sets(synonyms) for word in query_words]
    index = _SqliteIndex if db.engine.dialect.name == "sqlite" else _PostgresIndex
    return index(sets, required)


# A keyword search counts its matches up to here: a common word's count would cost a pass over tens of
# thousands of them, and nobody pages past the 50th page. The page says "1000+".
CAP = 1000


def _matching(index, start: int, per_page: int) -> tuple[list[int], int]:
    """The page's ids and the number of matches (CAP + 1 meaning more)."""
    total = index.count("body", CAP + 1)
    end = min(start + per_page, CAP, total)
    if start >= end:
        return [], total
    return [id_ for id_, _ in _ranked(index, end)[start:end]], total


def _ranked(index, end: int) -> list[tuple[int, int]]:
    """The first `end` matches in ranking order (at least; fewer when fewer match), each with its tier.

    The fields hold one another (name within head within services within body), so a tier is a field's
    matches less the field before's. Tier by tier, each field's first ids by id are fetched, as many as
    the ranking still needs plus the whole of the field before (fewer than `end`, or the tier before
    would have reached it); set aside those, and the rest are the tier's. Every query is one LIMITed
    index lookup, never "this field but not that one", which a database can only answer by testing
    each match."""
    ranked: list[tuple[int, int]] = []
    before: list[int] = []  # every match of the field before
    for tier, name in enumerate(FIELDS):
        if len(ranked) >= end:
            break
        found = index.ids(name, end - len(ranked) + len(before))
        known = set(before)
        ranked += [(id_, tier) for id_ in found if id_ not in known]
        before = found
    return ranked


def _synonyms_used(
    query_words: tuple[Word, ...], alone, found_alone, page_ids: list[int], found: int
) -> tuple:
    """The words whose synonyms were searched too, when that changed the result: found more than the
    words `alone` (`found` and `found_alone` matches, CAP + 1 meaning more), or, when both find more
    than CAP, put on the page one the words alone do not find."""
    expanded = tuple((w.text, w.synonyms) for w in query_words if w.synonyms)
    if not expanded:
        return ()
    if found > found_alone:
        return expanded
    beyond = found_alone > CAP and len(alone.held(page_ids)) < len(page_ids)
    return expanded if beyond else ()


# How much a word counts, by the best field holding it (name, head, services, anywhere).
FIELD_WEIGHTS = (4, 3, 2, 1)


def _most_words(query_words: tuple[Word, ...], required: list[str], start: int, per_page: int):
    """No institution holds every word: those holding some, ranked BM25-style: each word held counts
    its inverse document frequency (a rare word more than a common one) times the weight of the best
    field holding it; ties by id. The same arithmetic on the same ids on both databases. A word held by
    more than CAP institutions counts for its first CAP in its own ranking, as if CAP + 1 held it."""
    listed = listed_count()
    score: dict[int, float] = {}
    for word in query_words:
        index = _index((word,), required)
        held = index.count("body", CAP + 1)
        idf = math.log(1 + (listed - held + 0.5) / (held + 0.5))
        for id_, tier in _ranked(index, CAP) if held else ():
            score[id_] = score.get(id_, 0.0) + idf * FIELD_WEIGHTS[tier]
    ranked = sorted(score, key=lambda id_: (-round(score[id_], 9), id_))
    return ranked[start : start + per_page], len(ranked)


def _correction(query_words: tuple[Word, ...], required: list[str]) -> str | None:
    """The query with one misspelt word replaced by the field's word it sounds like, if that finds
    something."""
    known = search_query.vocabulary()
    for word in query_words:
        better = search_query.correction(word.text, known)
        if better:
            corrected = " ".join(better if w is word else w.text for w in query_words)
            if _index(search_query.words(corrected), required).count("body", 1):
                return corrected
    return None


def by_ids(ids: list[int]) -> list[Institution]:
    """The institutions of `ids` with their services, in the order of `ids`."""
    if not ids:
        return []
    rows = db.session.scalars(
        sa.select(Institution).where(Institution.id.in_(ids)).options(selectinload(Institution.services))
    )
    by_id = {i.id: i for i in rows}
    return [by_id[i] for i in ids if i in by_id]


# The fields a result is ranked by, best first (qzt.rules.search_query.document_terms): an institution
# is in the tier of the first field that holds every word of the query.
FIELDS = ("name", "head", "service", "body")


# SQLite: fields with an FTS5 table of their own (migration 0024), beside search_fts over every field.
OWN_TABLES = ("name", "head")


class _SqliteIndex:
    """FTS5 over the term columns: for each word, one of its alternatives' terms all present, in the
    field asked for (FIELDS), beside the required terms. The name and the head are asked in tables of
    their own: a column filter on search_fts would read every posting of a word common in bodies."""

    def __init__(self, term_sets: list[list[list[str]]], required: list[str]):
        self.term_sets, self.required = term_sets, required
        self._counts: dict[str, tuple[int, int]] = {}  # field: (count, the cap it was counted to)
        self.words = " AND ".join(
            "(" + " OR ".join("(" + " ".join(f'"{t}"' for t in terms) + ")" for terms in sets) + ")"
            for sets in term_sets
        )

    def _match(self, field: str) -> str:
        tags = "tag_terms" if field in OWN_TABLES else "body_terms"
        listed = " AND ".join(f'{tags} : "{t}"' for t in self.required)
        return f"{self._in(field)} AND {listed}"

    @staticmethod
    def _table(field: str) -> str:
        return f"search_fts_{field}" if field in OWN_TABLES else "search_fts"

    def _in(self, field: str) -> str:
        return f"{field}_terms : ({self.words})"

    def held(self, ids: list[int]) -> set[int]:
        """Those of `ids` that match."""
        sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH :m AND rowid IN :ids"
        stmt = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
        return set(db.session.scalars(stmt, {"m": self._match("body"), "ids": ids})) if ids else set()

    def count(self, field: str, cap: int) -> int:
        """How many match, or `cap` when at least that many do (a LIMITed scan)."""
        if self._counts.get(field, (0, 0))[1] >= cap:
            return min(self._counts[field][0], cap)
        t = self._table(field)
        sql = f"SELECT count(*) FROM (SELECT rowid FROM {t} WHERE {t} MATCH :m LIMIT :cap)"  # nosec B608
        n = db.session.scalar(sa.text(sql), {"m": self._match(field), "cap": cap}) or 0
        self._counts[field] = (n, cap)
        return n

    def counted(self, field: str, at_least: int) -> None:
        """Known without asking: at least `at_least` match."""
        self._counts[field] = (at_least, at_least)

    def ids(self, field: str, limit: int) -> list[int]:
        """The first `limit` matching ids, by id."""
        t = self._table(field)
        sql = f"SELECT rowid FROM {t} WHERE {t} MATCH :m ORDER BY rowid LIMIT :l"  # nosec B608
        return list(db.session.scalars(sa.text(sql), {"m": self._match(field), "l": limit}))


class _PostgresIndex:
    """GIN over the term arrays: for each word, the field's array holds one of its alternatives' terms;
    the tags (in the row) hold the required ones, the filters' found through the body's index too."""

    def __init__(self, term_sets: list[list[list[str]]], required: list[str]):
        self.term_sets, self.required = term_sets, required
        self._counts: dict[str, tuple[int, int]] = {}  # field: (count, the cap it was counted to)

    @staticmethod
    def _array(field: str) -> str:
        """The field's terms and its bucket's, as the field's GIN index holds them (migration 0025)."""
        return (
            f"string_to_array({field}_terms || ' qztb' || CAST(institution_id / {BUCKET_SIZE} AS text), ' ')"
        )

    def _in(self, field: str, prefix: str, extra: list[str] = ()) -> tuple[str, dict]:
        """Every word held by the field (and the `extra` terms), each combination of the words'
        alternatives one array, so that one GIN lookup checks a whole combination: given "word A and
        (word B or C)", the planner would look up A and test B and C row by row, decompressing each
        row's terms, where it judges B and C too common to be worth a lookup."""
        combinations = list(itertools.product(*self.term_sets))
        if len(combinations) > MAX_COMBINATIONS:  # rare: several words, each with many synonyms
            clauses, params = [], {}
            for w, sets in enumerate(self.term_sets):
                names = [f"{prefix}_{field}_{w}_{a}" for a in range(len(sets))]
                params |= dict(zip(names, sets, strict=True))
                clauses.append("(" + " OR ".join(self._holds(field, n) for n in names) + ")")
            if extra:
                clauses.append(self._holds(field, f"{prefix}_{field}_extra"))
                params[f"{prefix}_{field}_extra"] = list(extra)
            return " AND ".join(clauses), params
        names = [f"{prefix}_{field}_{c}" for c in range(len(combinations))]
        params = {
            name: list(dict.fromkeys([*itertools.chain.from_iterable(combination), *extra]))
            for name, combination in zip(names, combinations, strict=True)
        }
        return "(" + " OR ".join(self._holds(field, n) for n in names) + ")", params

    def _holds(self, field: str, name: str) -> str:
        return f"{self._array(field)} @> CAST(:{name} AS text[])"

    def _tagged(self) -> tuple[str, dict]:
        """The required terms, tested in the row's few tags as text: splitting them into an array for
        every row the index hands over cost more than the rest of the test."""
        names = [f"tag_{n}" for n in range(len(self.required))]
        where = " AND ".join(f"strpos(' ' || tag_terms || ' ', :{name}) > 0" for name in names)
        return where, {name: f" {term} " for name, term in zip(names, self.required, strict=True)}

    def _where(self, field: str) -> tuple[str, dict]:
        """The condition, built from fixed fragments only, every value bound: hence the nosec B608
        where it is used."""
        # The body's index finds the category or district; the tags, in the row, confirm it is listed.
        filters = [term for term in self.required if term != LISTED_TERM]
        where, params = self._in(field, "q", filters if field == "body" else [])
        tagged, tag_params = self._tagged()
        where += f" AND {tagged}"
        params |= tag_params
        if filters and field != "body":
            where += f" AND {self._holds('body', 'filters')}"
            params["filters"] = filters
        return where, params

    def held(self, ids: list[int]) -> set[int]:
        """Those of `ids` that match."""
        if not ids:
            return set()
        where, params = self._where("body")
        # Their buckets too, so that the index reads only the postings among them.
        sql = (
            f"SELECT institution_id FROM search_documents WHERE institution_id = ANY(:ids) AND {where} "  # nosec B608
            f"AND {self._array('body')} && CAST(:id_buckets AS text[])"
        )
        buckets = bucket_terms(sorted({id_ // BUCKET_SIZE for id_ in ids}))
        return set(db.session.scalars(sa.text(sql), {**params, "ids": ids, "id_buckets": buckets}))

    def count(self, field: str, cap: int) -> int:
        """How many match, or `cap` when at least that many do (a LIMITed scan)."""
        if self._counts.get(field, (0, 0))[1] >= cap:
            return min(self._counts[field][0], cap)
        where, params = self._where(field)
        sql = "SELECT count(*) FROM (SELECT FROM search_documents WHERE {} LIMIT :cap) AS m"
        params["cap"] = cap
        # Among the first buckets first: a common word reaches the cap there, having read a few of its
        # postings instead of all. From what the window found, the next is as large as the cap needs
        # if the rest is as dense (WINDOW_SLACK to spare); past a quarter of the buckets, all are asked
        # (a window that large costs nearly what all do, and a second statement).
        buckets = (db.session.info.get(_LAST_ID_KEY) or 0) // BUCKET_SIZE + 1
        window, n = FIRST_WINDOW, 0
        while window <= buckets // 4:
            windowed = sql.format(f"{where} AND {self._array(field)} && CAST(:window AS text[])")
            params["window"] = bucket_terms(range(window))
            n = db.session.scalar(sa.text(windowed), params) or 0  # nosec B608
            if n >= cap:
                break
            window = max(2 * window, math.ceil(window * WINDOW_SLACK * cap / max(n, 1)))
        else:
            n = db.session.scalar(sa.text(sql.format(where)), params) or 0  # nosec B608
        self._counts[field] = (n, cap)
        return n

    def counted(self, field: str, at_least: int) -> None:
        """Known without asking: at least `at_least` match."""
        self._counts[field] = (at_least, at_least)

    def ids(self, field: str, limit: int) -> list[int]:
        """The first `limit` matching ids, by id.

        The index hands over every match of a word, in no order, and each is read from the table to
        learn its id: for a word in thousands of names, thousands of reads to keep 20. So the ids are
        asked among the first buckets of ids first (the index walks the word's postings alongside the
        buckets' and stops where they end): up to where the body's count says `limit` of them should
        be, or, past CAP, a sixteenth of that, and at least FIRST_WINDOW buckets; while fewer are
        found, up to a bound as much higher as the ones found say is needed (at most 16 times), until
        none is left out; when none is found, without a bound."""
        where, params = self._where(field)
        among = f"{self._array(field)} && CAST(:buckets AS text[])"
        if field != "body" and "filters" in params:  # the filters' lookup in the body's index too
            among += f" AND {self._array('body')} && CAST(:buckets AS text[])"
        bounded = (
            f"SELECT institution_id FROM search_documents WHERE {where} "  # nosec B608
            f"AND {among} ORDER BY 1 LIMIT :l"
        )
        matches = max(1, self.count("body", CAP + 1))  # a field holds no more than the body
        last_id = db.session.info.get(_LAST_ID_KEY) or 0
        below = int(last_id * BOUND_SLACK * limit / (matches * (CAPPED_SHARE if matches > CAP else 1))) + 1
        below = max(below, FIRST_WINDOW * BUCKET_SIZE)
        while (buckets := -(-below // BUCKET_SIZE)) <= last_id // BUCKET_SIZE:
            window = bucket_terms(range(buckets))
            found = list(db.session.scalars(sa.text(bounded), {**params, "l": limit, "buckets": window}))
            if len(found) >= limit:
                return found
            if not found:  # rare in this field: all its matches cost less than more bounds
                break
            below = int(buckets * BUCKET_SIZE * min(BOUND_GROWTH, 2 * limit / max(len(found), 1))) + 1
        sql = f"SELECT institution_id FROM search_documents WHERE {where} ORDER BY 1 LIMIT :l"  # nosec B608
        return list(db.session.scalars(sa.text(sql), {**params, "l": limit}))


# Beyond this many combinations of the words' alternatives, a word's alternatives are ORed instead.
MAX_COMBINATIONS = 16
# PostgreSQL: each document's ids bucket (institution_id / BUCKET_SIZE), a term of each field's GIN
# index (migration 0025, where the size is fixed too), so that a statement can ask among the first ids.
BUCKET_SIZE = 1024
# A count asks among the first FIRST_WINDOW buckets first, and so does a field's first ids at least
# (_PostgresIndex.count, ids): fewer cost no less than a second statement would.
FIRST_WINDOW = 4
WINDOW_SLACK = 1.25


def bucket_terms(buckets) -> list[str]:
    return [f"qztb{n}" for n in buckets]


# The first bound on the ids holds this many times the ids asked for, if the field held as many words
# as the body; each next bound is at most BOUND_GROWTH times higher (_PostgresIndex.ids).
BOUND_SLACK = 2
BOUND_GROWTH = 16
# Past CAP the body's count says little of how common the word is: the first bound is this many times
# lower (a word in every name would otherwise have its first bound tested row by row).
CAPPED_SHARE = 16


def category_counts() -> dict[str, int]:
    """Listed institutions per category (an institution counts once in each of its categories)."""
    prefix = DirectoryTally.CATEGORY_PREFIX
    rows = db.session.execute(
        sa.select(DirectoryTally.key, DirectoryTally.count).where(
            DirectoryTally.key.startswith(prefix), DirectoryTally.count > 0
        )
    )
    return {key.removeprefix(prefix): count for key, count in rows}


def listed_count() -> int:
    return _tally(DirectoryTally.LISTED_KEY)


def _tally(key: str) -> int:
    return db.session.scalar(sa.select(DirectoryTally.count).where(DirectoryTally.key == key)) or 0
