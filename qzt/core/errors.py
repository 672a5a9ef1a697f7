"""Error pages as a blueprint: an HTML page for people, JSON for the API under /api/."""

from flask import Blueprint, render_template, render_template_string, request
from flask_wtf.csrf import CSRFError

from qzt.core.requestlog import request_id
from qzt.extensions import db

bp = Blueprint("errors", __name__)

# What each error says: (status, title, message).
PAGES = {
    404: (404, "页面不存在", "您访问的页面不存在或已下线。"),
    405: (405, "不支持的操作", "该地址不支持此种请求方式。"),
    CSRFError: (400, "页面已过期", "表单已过期或缺少安全校验，请刷新页面后重新提交。"),
    413: (413, "文件过大", "上传的内容过大，单个文件不得超过10MB。"),
    429: (429, "操作过于频繁", "来自您网络地址的请求过多，请稍等几分钟后再试。"),
    500: (500, "服务暂时不可用", "服务器出现问题，请稍后再试。"),
}
# A query stopped by the database's statement_timeout (qzt.core.database): busy, not broken.
TIMED_OUT = (
    503,
    "系统繁忙",
    "本次查询用时过长，已停止以免影响其他用户。请稍后再试，或缩小查询范围（如选择服务类别、所在区）。",
)


FRAGMENT = '<p class="field-error" role="alert">{{ message }}</p>'


def error_response(status: int, title: str, message: str):
    """The request id (请求编号) goes with every error, so that the user can quote it to staff."""
    if request.path.startswith("/api/"):
        return {"error": message, "request_id": request_id()}, status
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        # htmx swaps only this line into the part it asked for (site.js lets a 429 through)
        return render_template_string(FRAGMENT, message=message), status
    page = render_template("error.html", status=status, title=title, message=message, request_id=request_id())
    return page, status


def _handler(page: tuple[int, str, str]):
    return lambda _error: error_response(*page)


def _server_error(error):
    """500, or 503 when the cause is a query the database stopped for taking too long (Flask has logged
    it, with its SQL, before this runs)."""
    if statement_timed_out(getattr(error, "original_exception", None)):
        db.session.rollback()
        return error_response(*TIMED_OUT)
    return error_response(*PAGES[500])


def statement_timed_out(error: BaseException | None) -> bool:
    """PostgreSQL's query_canceled (SQLSTATE 57014), as psycopg raises it under SQLAlchemy."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == "57014"


for _error, _page in PAGES.items():
    bp.app_errorhandler(_error)(_server_error if _error == 500 else _handler(_page))
