"""The home page's counts (listed institutions, per category) are tallies kept in the same transaction as
every listing change: reading them costs the same at 100 institutions as at 100,000 (issue 14), and they
always equal a count over the rows."""

import sqlalchemy as sa

from qzt.directory import search
from qzt.directory.institutions import bulk_create_listed
from qzt.extensions import db
from qzt.models import Institution, ListingState, ServiceItem
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


def test_tallies_follow_every_listing_change(app, make_institution):
    first = make_institution("佛山市甲检测所", services=[("inspection", "电器检测", "", True)])
    second = make_institution(
        "佛山市乙计量所",
        services=[("metrology", "仪器校准", "", True), ("inspection", "材料检测", "", False)],
    )
    hidden = make_institution(
        "佛山市丙认证所", services=[("certification", "体系认证", "", True)], state=ListingState.HIDDEN
    )
    assert tallied() == ({"inspection": 2, "metrology": 1}, 2) == counted_over_the_rows()

    hidden.listing_state = ListingState.LISTED  # shown again
    first.listing_state = ListingState.EXPELLED  # Art. 17
    db.session.commit()
    assert tallied() == ({"inspection": 1, "metrology": 1, "certification": 1}, 2) == counted_over_the_rows()

    second.services[1].category = "metrology"  # both items now in one category: counted once
    db.session.commit()
    assert tallied() == ({"metrology": 1, "certification": 1}, 2) == counted_over_the_rows()

    db.session.delete(second.services[0])  # homepage upkeep removes an item
    hidden.services.append(ServiceItem(category="standards", title="标准制定", content="", position=1))
    db.session.commit()
    assert tallied() == ({"metrology": 1, "certification": 1, "standards": 1}, 2) == counted_over_the_rows()


def test_a_failed_transaction_leaves_the_tallies_alone(app, make_institution):
    inst = make_institution("佛山市甲检测所")
    inst.listing_state = ListingState.EXPELLED
    db.session.flush()
    assert tallied() == ({}, 0)  # inside the transaction
    db.session.rollback()
    assert tallied() == ({"inspection": 1}, 1)


def test_bulk_loads_and_recounts_agree_with_the_rows(app, make_institution):
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

    db.session.execute(sa.text("UPDATE directory_tallies SET count = 0"))  # drift, say by hand
    search.recount_tallies()
    db.session.commit()
    assert tallied() == counted_over_the_rows()
