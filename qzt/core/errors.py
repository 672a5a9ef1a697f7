"""Error pages as a blueprint: an HTML page for people, JSON for the API under /api/."""

from flask import Blueprint, render_template, render_template_string, request
from flask_wtf.csrf import CSRFError

from qzt.core.requestlog import request_id

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


for _error, _page in PAGES.items():
    bp.app_errorhandler(_error)(_handler(_page))
