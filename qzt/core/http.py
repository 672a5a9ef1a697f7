"""Request handling shared by every area: the request class, htmx fragments, the client's address,
security headers and the ``id`` URL converter."""

import unicodedata
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from htmx_flask.requests import HtmxAwareRequest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
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
    """Where to go after login or registration: `target` when it is a path of this site, else the endpoint
    `fallback`. A crafted link cannot send the user elsewhere (//host, /\\host, a scheme) nor break the
    redirect's header (control characters, e.g. an encoded CR LF)."""
    if target and is_same_site_path(target):
        return target
    return url_for(fallback)


def is_same_site_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(unicodedata.category(c)[0] in "CZ" for c in target):  # controls, format marks, any space
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


PUBLIC_URL = "QZT_PUBLIC_URL"


def public_base() -> str:
    """The site's address as people reach it, ending in "/": QZT_PUBLIC_URL, never the request's Host
    header (which anyone can set). Unset, as in development, the request's own address."""
    configured = current_app.config.get(PUBLIC_URL)
    if configured:
        return configured.rstrip("/") + "/"
    return request.host_url if has_request_context() else "http://localhost/"


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for links that leave the page: the API's `url`, QR codes and links in PDFs."""
    return public_base().rstrip("/") + url_for(endpoint, **values)


def _public_url_settings(app: Flask) -> None:
    """With QZT_PUBLIC_URL set, only its host is served (Flask answers 400 to any other Host)."""
    configured = app.config.get(PUBLIC_URL)
    if not configured:
        return
    parts = urlsplit(configured)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            f"{PUBLIC_URL}={configured!r}: expected the site's address, e.g. https://qzt.example.cn"
        )
    if not app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = [parts.hostname]
    if parts.scheme == "https":
        app.config["SESSION_COOKIE_SECURE"] = True


PROXY_COUNT = "QZT_PROXY_COUNT"
HSTS = "max-age=31536000; includeSubDomains"


def _behind_proxies(app: Flask) -> None:
    """QZT_PROXY_COUNT=n: n reverse proxies (nginx, a load balancer) stand in front, and their
    X-Forwarded-For and X-Forwarded-Proto are believed: the client's address (audit, limits) and whether
    it came over HTTPS. Unset (0), those headers are ignored, since any client can send them."""
    count = int(app.config.get(PROXY_COUNT) or 0)
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (directly or through a trusted
    proxy), or always when SESSION_COOKIE_SECURE is set; plain HTTP in development still works."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


# Shared assets a browser may keep; everything else a logged-in user is sent is theirs alone.
CACHEABLE_ENDPOINTS = {"static", "charts.charts_css"}


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.headers.get("HX-Request"):
        response.vary.add("HX-Request")
    if request.endpoint not in CACHEABLE_ENDPOINTS and current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
    return response


def init_app(app: Flask) -> None:
    app.request_class = QztRequest  # after Htmx.init_app, whose request class it extends
    app.url_map.converters["id"] = IdConverter
    app.after_request(_security_headers)
    app.session_interface = _SessionInterface()
    _public_url_settings(app)
    _behind_proxies(app)

    @app.get("/healthz")
    def healthz():
        """Liveness probe; also the trivial baseline route of the directory benchmark."""
        return "ok"
