"""The public directory: home page, listing with search and filters, institution homepages."""

from flask import abort, current_app, get_template_attribute, render_template, request, url_for

from qzt.core import fragments
from qzt.core.http import is_fragment
from qzt.core.pagecache import cached_for_anonymous
from qzt.directory import bp, forms, search
from qzt.extensions import db
from qzt.models import ExpulsionNotice, Institution, ListingState, Rating
from qzt.rules import ratings
from qzt.rules.sanctions import EXPULSION_CAUSES


@bp.get("/")
@cached_for_anonymous
def home():
    """Search box and the category tiles with their counts."""
    counts, listed = fragments.one("tallies", None, lambda: (search.category_counts(), search.listed_count()))
    return render_template("directory/home.html", counts=counts, listed=listed)


@bp.get("/directory")
@cached_for_anonymous
def listing():
    """Listed institutions by search, category and district; htmx gets only the results."""
    query = forms.parse(request.args, current_app.config["PER_PAGE"])
    page = search.cached_search(query.filters, query.page, query.per_page)
    cards = fragments.each("card", page.ids, page.words, lambda ids: _cards(ids, page.words))
    template = "directory/_results.html" if is_fragment() else "directory/listing.html"
    return render_template(
        template, query=query, filters=query.filters, page=page, cards=cards, page_url=_page_url
    )


def _cards(ids: list[int], words: tuple) -> dict:
    card = get_template_attribute("directory/_card.html", "card")
    return {inst.id: card(inst, words) for inst in search.by_ids(ids)}


def _page_url(filters: search.Filters, page: int) -> str:
    args = {"q": filters.q or None, "category": filters.category, "district": filters.district}
    return url_for("directory.listing", page=page if page > 1 else None, **args)


@bp.get("/institutions/<id:institution_id>")
@cached_for_anonymous
def institution(institution_id: int):
    """An institution's public homepage."""
    inst = db.session.get(Institution, institution_id)
    if inst is not None and inst.listing_state in (ListingState.EXPELLED, ListingState.REMOVED):
        notice = db.session.scalar(
            db.select(ExpulsionNotice)
            .where(ExpulsionNotice.institution_id == inst.id)
            .order_by(ExpulsionNotice.id.desc())
            .limit(1)
        )
        return render_template(
            "directory/closed.html", inst=inst, causes=EXPULSION_CAUSES, notice=notice
        ), 410
    if inst is None or not inst.is_listed:
        abort(404)
    stars = list(db.session.scalars(db.select(Rating.stars).where(Rating.institution_id == inst.id)))
    return render_template(
        "directory/institution.html", inst=inst, rating=(ratings.shown_average(stars), len(stars))
    )
