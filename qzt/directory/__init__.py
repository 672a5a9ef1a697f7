"""The public directory (Art. 2): home page, listing with search and filters, institution homepages,
and its read-only JSON face under /api/v1 (``qzt.directory.api``); importing and demo data."""

from flask import Blueprint

bp = Blueprint("directory", __name__)


def init_app(app) -> None:
    from qzt.directory import search

    search.init_app(app)
