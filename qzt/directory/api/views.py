"""The read-only JSON API (/api/v1): the directory's categories, districts and listed institutions."""

from flask import Response, abort, current_app, request

from qzt.core import clock, fragments
from qzt.core.http import public_base
from qzt.core.requestlog import request_id
from qzt.data.catalog import CATEGORIES, DISTRICTS
from qzt.directory import forms, search
from qzt.directory.api import bp, openapi, serializers
from qzt.extensions import db
from qzt.models import Institution

DEFAULT_PER_PAGE = 20


def json_response(data: dict, status: int = 200) -> Response:
    """JSON with real Chinese characters rather than \\u escapes, keys in the documented order. An error
    carries the request id, for the caller to quote."""
    if status >= 400:
        data = {**data, "request_id": request_id()}
    body = current_app.json.dumps(data, ensure_ascii=False, sort_keys=False)
    return current_app.response_class(body + "\n", status=status, mimetype="application/json")


def _bad_request(fields: dict[str, str]) -> Response:
    message = "请求参数有误，请修改后重试：" + "；".join(fields.values())
    return json_response({"error": message, "fields": fields}, 400)


@bp.get("/categories")
def categories():
    """The 17 service categories in the regulation's order, each with its count of listed institutions."""
    counts = fragments.one("category_counts", None, search.category_counts)
    return json_response({"items": [serializers.choice(c, counts.get(c.slug, 0)) for c in CATEGORIES]})


@bp.get("/districts")
def districts():
    """The districts an institution can be in, in the regulation's order."""
    return json_response({"items": [serializers.choice(d) for d in DISTRICTS]})


@bp.get("/institutions")
def institutions():
    """Listed institutions by search, category and district, in the directory's ranking order."""
    query = forms.parse(request.args, DEFAULT_PER_PAGE)
    if query.errors:
        return _bad_request(query.errors)
    page = search.cached_search(query.filters, query.page, query.per_page)
    return json_response(
        {
            "items": fragments.each("api-item", page.ids, (public_base(), page.words), _items(page.words)),
            "total": page.total,
            "total_capped": page.capped,
            "page": page.page,
            "per_page": page.per_page,
            "partial": page.partial,
            "synonyms": dict(page.synonyms),
            "correction": page.correction,
            "suggested_categories": page.categories,
        }
    )


def _items(words: tuple):
    def make(ids: list[int]) -> dict:
        return {inst.id: serializers.search_item(inst, words) for inst in search.by_ids(ids)}

    return make


@bp.get("/institutions/<id:institution_id>")
def institution(institution_id: int):
    """One listed institution, as its public homepage shows it (phone numbers masked)."""
    inst = db.session.get(Institution, institution_id)
    if inst is None or not inst.is_listed:
        abort(json_response({"error": "该机构不存在或未在名录中公示。"}, 404))
    return json_response(serializers.institution_detail(inst, clock.today()))


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return json_response(openapi.document())
