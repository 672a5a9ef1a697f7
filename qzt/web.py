"""Site-wide request handling: security headers, template helpers, error pages, user loading."""

from datetime import date, datetime

from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from htmx_flask.requests import HtmxAwareRequest
from werkzeug.datastructures import ImmutableMultiDict

from qzt.data.catalog import CATEGORIES, CATEGORY_NAMES, DISTRICT_NAMES, DISTRICTS, ORG_TYPE_NAMES, ORG_TYPES
from qzt.extensions import db, login_manager
from qzt.models import User
from qzt.rules import phone
from qzt.rules.calendar import to_beijing
from qzt.rules.eligibility import DECLARATIONS

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


def is_fragment() -> bool:
    """An htmx request that swaps part of the page (not a boosted navigation or history restore)."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def beijing(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored moment as Beijing time, for templates."""
    return to_beijing(moment).strftime(fmt) if moment is not None else ""


def phone_for(number: str, institution) -> str:
    """The full number for the institution's owner and staff, masked (138****1234) for everyone else."""
    user = current_user
    if user.is_authenticated and (user.is_staff or user.id == institution.owner_id):
        return number
    return phone.mask(number)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.headers.get("HX-Request"):
        response.vary.add("HX-Request")
    return response


def _error_page(status: int, title: str, message: str):
    if request.path.startswith("/api/"):
        return {"error": message}, status
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    app.request_class = QztRequest  # after Htmx.init_app, whose request class it extends
    app.after_request(_security_headers)
    app.jinja_env.filters["mask_phone"] = phone.mask
    app.jinja_env.filters["beijing"] = beijing
    app.jinja_env.globals.update(
        CATEGORIES=CATEGORIES,
        DISTRICTS=DISTRICTS,
        CATEGORY_NAMES=CATEGORY_NAMES,
        DISTRICT_NAMES=DISTRICT_NAMES,
        ORG_TYPES=ORG_TYPES,
        ORG_TYPE_NAMES=ORG_TYPE_NAMES,
        DECLARATIONS=DECLARATIONS,
        is_fragment=is_fragment,
        phone_for=phone_for,
    )

    @app.context_processor
    def _today():
        return {"today": date.today()}

    @app.errorhandler(404)
    def _not_found(_e):
        return _error_page(404, "页面不存在", "您访问的页面不存在或已下线。")

    @app.errorhandler(405)
    def _not_allowed(_e):
        return _error_page(405, "不支持的操作", "该地址不支持此种请求方式。")

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return _error_page(400, "页面已过期", "表单已过期或缺少安全校验，请刷新页面后重新提交。")

    @app.errorhandler(413)
    def _too_large(_e):
        return _error_page(413, "文件过大", "上传的内容过大，单个文件不得超过10MB。")

    @app.errorhandler(500)
    def _server_error(_e):
        return _error_page(500, "服务暂时不可用", "服务器出现问题，请稍后再试。")

    @app.get("/healthz")
    def healthz():
        """Liveness probe; also the trivial baseline route of the directory benchmark."""
        return "ok"
