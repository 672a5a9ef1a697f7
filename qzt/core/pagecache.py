"""Whole-page caching of the public directory for anonymous visitors.

Most traffic is anonymous browsing from the WeChat account, and the directory changes rarely. Every
flush that touches what the directory shows bumps a version number in the same transaction; a cached
page is served only while the version it was rendered at is still current, so a change shows at once.
Logged-in users, flashed messages and anything that sets a cookie bypass the cache.
"""

from collections import OrderedDict
from functools import wraps
from threading import Lock

import sqlalchemy as sa
from flask import Response, current_app, g, request, session
from flask_login import current_user

from qzt.core.database import listen
from qzt.core.http import is_fragment
from qzt.extensions import db
from qzt.models import (
    Institution,
    Qualification,
    Rating,
    SearchDocument,
    ServiceAgent,
    ServiceItem,
    SiteState,
)

DIRECTORY = "directory"
MAX_PAGES = 1000
SHOWN = (Institution, ServiceItem, Qualification, ServiceAgent, SearchDocument, Rating)

_lock = Lock()


def _pages() -> OrderedDict:
    """This app's cache (one per app: each app has its own database)."""
    return current_app.extensions.setdefault("qzt_page_cache", OrderedDict())


def bump(connection: sa.Connection | None = None) -> None:
    """Mark the directory changed (for writes that bypass the ORM, such as bulk inserts)."""
    stmt = sa.update(SiteState).where(SiteState.key == DIRECTORY).values(version=SiteState.version + 1)
    (connection or db.session).execute(stmt)


def _after_flush(session, _context) -> None:
    if any(isinstance(obj, SHOWN) for obj in (*session.new, *session.dirty, *session.deleted)):
        bump(session.connection())


def init_app(app) -> None:
    listen(sa.orm.Session, "after_flush", _after_flush)


def version() -> int | None:
    """The directory's version; None (nothing is cached) if the counter row is missing."""
    return db.session.scalar(sa.select(SiteState.version).where(SiteState.key == DIRECTORY))


def clear() -> None:
    with _lock:
        _pages().clear()


def cached_for_anonymous(view):
    """Serve the stored page when the visitor is anonymous and the directory has not changed."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_authenticated or session.get("_flashes") or not current_app.config["PAGE_CACHE"]:
            return view(*args, **kwargs)
        key = (request.full_path, is_fragment())  # a history restore or boosted visit gets the full page
        current = version()
        if current is None:
            return view(*args, **kwargs)
        g.page_cacheable = True  # base.html leaves out the per-session CSRF token
        pages = _pages()
        with _lock:
            hit = pages.get(key)
        if hit and hit[0] == current:
            return Response(hit[1], status=200, mimetype="text/html", headers={"Vary": "Cookie, HX-Request"})
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and "Set-Cookie" not in response.headers:
            with _lock:
                pages[key] = (current, response.get_data())
                pages.move_to_end(key)
                while len(pages) > MAX_PAGES:
                    pages.popitem(last=False)
        response.vary.update(("Cookie", "HX-Request"))
        return response

    return wrapped
