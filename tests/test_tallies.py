"""The home page's counts (listed institutions, per category) are tallies kept in the same transaction as
every listing change: reading them costs the same at 100 institutions as at 100,000 (issue 14), and they
always equal a count over the rows."""

import re
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa
from shared_fixtures import in_app_thread

from qzt.directory import search
from qzt.directory.institutions import bulk_create_listed
from qzt.directory.search import Filters
from qzt.extensions import db
from qzt.models import BucketTally, Institution, ListingState, ServiceItem
from qzt.models.institution import InstitutionRecord, ServiceRecord


def counted_over_the_rows() -> tuple[dict[str, int], int]:
    listed = Institution.listing_state == ListingState.LISTED
    per_category = (
        sa.select(ServiceItem.category, sa.func.count(sa.distinct(ServiceItem.institution_id)))
        .join(Institution)
        .where(listed)
        .group_by(ServiceItem.category)
    )
    total = db.session.scalar(sa.select(sa.func.count()).where(listed))
    return dict(db.session.execute(per_category).all()), total


def tallied() -> tuple[dict[str, int], int]:
    return search.category_counts(), search.listed_count()


def buckets_over_the_rows() -> dict[tuple[str, int], int]:
    """Listed institutions per directory term (listed, category, district, both) and bucket of ids,
    counted from the institutions and their services."""
    counts: dict[tuple[str, int], int] = {}
    listed = sa.select(Institution).where(Institution.listing_state == ListingState.LISTED)
    for inst in db.session.scalars(listed):
        categories = {item.category for item in inst.services}
        terms = {search.LISTED_TERM, *search.filter_terms(categories, inst.district)}
        for term in terms:
            key = (term, inst.id // search.BUCKET_SIZE)
            counts[key] = counts.get(key, 0) + 1
    return counts


def buckets_tallied() -> dict[tuple[str, int], int]:
    rows = db.session.execute(sa.select(BucketTally.term, BucketTally.bucket, BucketTally.count))
    return {(term, bucket): n for term, bucket, n in rows if n}


@pytest.fixture
def small_buckets(monkeypatch):
    """Buckets of 2 ids, so that a handful of institutions spread over several."""
    monkeypatch.setattr(search, "BUCKET_SIZE", 2)


def test_reading_the_counts_touches_no_institution(app, make_institution):
    make_institution("佛山市甲检测所")
    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert tallied() == ({"inspection": 1}, 1)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert statements and all("directory_tallies" in s and "institutions" not in s for s in statements)


def test_tallies_follow_every_listing_change(app, make_institution, small_buckets):
    first = make_institution("佛山市甲检测所", services=[("inspection", "电器检测", "", True)])
    second = make_institution(
        "佛山市乙计量所",
        services=[("metrology", "仪器校准", "", True), ("inspection", "材料检测", "", False)],
    )
    hidden = make_institution(
        "佛山市丙认证所", services=[("certification", "体系认证", "", True)], state=ListingState.HIDDEN
    )
    assert tallied() == ({"inspection": 2, "metrology": 1}, 2) == counted_over_the_rows()
    assert buckets_tallied() == buckets_over_the_rows()

    hidden.listing_state = ListingState.LISTED  # shown again
    first.listing_state = ListingState.EXPELLED  # Art. 17
    db.session.commit()
    assert tallied() == ({"inspection": 1, "metrology": 1, "certification": 1}, 2) == counted_over_the_rows()

    second.services[1].category = "metrology"  # both items now in one category: counted once
    db.session.commit()
    assert tallied() == ({"metrology": 1, "certification": 1}, 2) == counted_over_the_rows()
    assert buckets_tallied() == buckets_over_the_rows()

    db.session.delete(second.services[0])  # homepage upkeep removes an item
    hidden.services.append(ServiceItem(category="standards", title="标准制定", content="", position=1))
    db.session.commit()
    assert tallied() == ({"metrology": 1, "certification": 1, "standards": 1}, 2) == counted_over_the_rows()
    assert buckets_tallied() == buckets_over_the_rows()

    hidden.district = "shunde"  # moves: its district's and its category-and-district terms change
    db.session.delete(second)  # an institution deleted with its documents
    db.session.commit()
    assert buckets_tallied() == buckets_over_the_rows()
    assert {b for (term, b) in buckets_tallied() if term == search.LISTED_TERM} == {hidden.id // 2}


def test_a_failed_transaction_leaves_the_tallies_alone(app, make_institution):
    inst = make_institution("佛山市甲检测所")
    inst.listing_state = ListingState.EXPELLED
    db.session.flush()
    assert tallied() == ({}, 0)  # inside the transaction
    assert buckets_tallied() == {}
    db.session.rollback()
    assert tallied() == ({"inspection": 1}, 1)
    assert buckets_tallied() == buckets_over_the_rows() != {}


def test_bulk_loads_and_recounts_agree_with_the_rows(app, make_institution, small_buckets):
    make_institution("佛山市甲检测所")
    records = [
        InstitutionRecord(
            name=f"佛山市批量{n}号检测所",
            uscc=f"91440604MB{n:07d}X",
            district="shunde",
            services=[
                ServiceRecord("inspection", "检测"),
                ServiceRecord("training", "内审员培训", position=1),
            ],
        )
        for n in range(30)
    ]
    bulk_create_listed(records)
    db.session.commit()
    assert tallied() == ({"inspection": 31, "training": 30}, 31) == counted_over_the_rows()
    assert buckets_tallied() == buckets_over_the_rows()

    db.session.execute(sa.text("UPDATE directory_tallies SET count = 0"))  # drift, say by hand
    db.session.execute(sa.text("UPDATE directory_bucket_tallies SET count = count + 1"))
    search.recount_tallies()
    db.session.commit()
    assert tallied() == counted_over_the_rows()
    assert buckets_tallied() == buckets_over_the_rows()


def browsed_over_the_rows(filters: Filters) -> list[int]:
    """What browsing the directory lists, by id, from the rows."""
    stmt = sa.select(Institution.id).where(Institution.listing_state == ListingState.LISTED)
    if filters.district:
        stmt = stmt.where(Institution.district == filters.district)
    if filters.category:
        offering = sa.select(ServiceItem.institution_id).where(ServiceItem.category == filters.category)
        stmt = stmt.where(Institution.id.in_(offering))
    return list(db.session.scalars(stmt.order_by(Institution.id)))


def spread_institutions(make_institution) -> None:
    """Institutions in two districts and three categories, some hidden, over several buckets."""
    kinds = [("inspection",), ("metrology",), ("inspection", "training"), ("training",)]
    for n in range(23):
        services = [(slug, f"服务{n}-{slug}", "", i == 0) for i, slug in enumerate(kinds[n % 4])]
        state = ListingState.HIDDEN if n % 7 == 3 else ListingState.LISTED
        district = "shunde" if n % 3 else "nanhai"
        make_institution(f"佛山市第{n}检测所", district=district, services=services, state=state)


@pytest.mark.parametrize("bucket_size", [1, 3, 1024])
@pytest.mark.parametrize("per_page", [1, 4, 7])
@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(category="inspection"),
        Filters(district="shunde"),
        Filters(category="training", district="nanhai"),
    ],
    ids=["all", "category", "district", "both"],
)
def test_browsed_pages_are_the_rows_in_order_whatever_the_buckets(
    monkeypatch, make_institution, bucket_size, per_page, filters
):
    """A page without a query is found through the tallies per bucket: page after page, it lists what
    OFFSET over the rows would, and the total is their number."""
    monkeypatch.setattr(search, "BUCKET_SIZE", bucket_size)
    spread_institutions(make_institution)
    expected = browsed_over_the_rows(filters)
    pages = -(-len(expected) // per_page)
    shown = []
    for page in range(1, pages + 2):  # one past the last: empty
        found = search.search(filters, page, per_page)
        assert found.total == len(expected)
        shown += found.ids
        assert len(found.ids) == (0 if page > pages else min(per_page, len(expected) - (page - 1) * per_page))
    assert shown == expected and expected


def test_a_deep_page_skips_no_rows_before_its_bucket(monkeypatch, make_institution):
    """Page 9 starts in the bucket holding its first institution: its statement asks among that bucket
    and the next, and skips at most a bucket's rows (not the 16 before the page)."""
    monkeypatch.setattr(search, "BUCKET_SIZE", 3)
    spread_institutions(make_institution)
    listings: list[str] = []

    def record(state):  # the statement with its values written in
        listings.append(str(state.statement.compile(compile_kwargs={"literal_binds": True})))

    sa.event.listen(db.session, "do_orm_execute", record)
    try:
        found = search.search(Filters(), page=9, per_page=2)
    finally:
        sa.event.remove(db.session, "do_orm_execute", record)
    assert found.ids == browsed_over_the_rows(Filters())[16:18]
    (listing,) = [sql for sql in listings if "FROM institutions" in sql]
    assert int(re.search(r"OFFSET (\d+)", listing).group(1)) < 3


def test_two_transactions_adding_the_first_of_a_tally_both_count(app):
    """Two institutions listed at once in a bucket nobody was in yet: the one whose transaction is
    second waits for the first's row and adds to it, instead of failing to insert a row of its own."""
    key = (search.LISTED_TERM, 999)
    errors: list[BaseException] = []
    flushed = threading.Event()

    def holder():
        search.add_to_bucket_tallies(db.session.connection(), Counter({key: 1}))
        flushed.set()
        time.sleep(0.5)
        db.session.commit()

    def waiter():
        flushed.wait(10)
        search.add_to_bucket_tallies(db.session.connection(), Counter({key: 1}))
        db.session.commit()

    threads = [in_app_thread(app, work, errors, flushed) for work in (holder, waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert buckets_tallied()[key] == 2
