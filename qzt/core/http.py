"""Request handling shared by every area: the request class, htmx fragments, the client's address,
security headers and the ``id`` URL converter."""

from urllib.parse import urlsplit

from flask import Flask, request, url_for
from htmx_flask.requests import HtmxAwareRequest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from qzt.models.base import MAX_ID

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class _CleanMultiDict(ImmutableMultiDict):
    """Form and query values without NUL characters: PostgreSQL text cannot hold them, and no person
    types one."""

    def __init__(self, mapping=None):
        if mapping is not None and not isinstance(mapping, dict):
            mapping = [
                (key, value.replace("\x00", "") if isinstance(value, str) else value)
                for key, value in mapping
            ]
        super().__init__(mapping)


class QztRequest(HtmxAwareRequest):
    parameter_storage_class = _CleanMultiDict


class IdConverter(IntegerConverter):
    """``<id:name>``: a database id; one beyond the largest integer key is a 404, not a database error."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID, **kwargs)


def is_fragment() -> bool:
    """An htmx request that swaps part of the page (not a boosted navigation or history restore)."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def client_ip() -> str:
    """The client's address as recorded in audit records and signatures."""
    return (request.remote_addr or "")[:45]


def safe_next(target: str | None, fallback: str) -> str:
    """Where to go after login or registration: `target` when it is a path of this site (a crafted link
    cannot send the user elsewhere), else the endpoint `fallback`."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for(fallback)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.headers.get("HX-Request"):
        response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    app.request_class = QztRequest  # after Htmx.init_app, whose request class it extends
    app.url_map.converters["id"] = IdConverter
    app.after_request(_security_headers)

    @app.get("/healthz")
    def healthz():
        """Liveness probe; also the trivial baseline route of the directory benchmark."""
        return "ok"
