"""Error pages as a blueprint: an HTML page for people, JSON for the API under /api/."""

from flask import Blueprint, render_template, request
from flask_wtf.csrf import CSRFError

bp = Blueprint("errors", __name__)


def error_response(status: int, title: str, message: str):
    if request.path.startswith("/api/"):
        return {"error": message}, status
    return render_template("error.html", status=status, title=title, message=message), status


@bp.app_errorhandler(404)
def not_found(_e):
    return error_response(404, "页面不存在", "您访问的页面不存在或已下线。")


@bp.app_errorhandler(405)
def not_allowed(_e):
    return error_response(405, "不支持的操作", "该地址不支持此种请求方式。")


@bp.app_errorhandler(CSRFError)
def csrf_failed(_e):
    return error_response(400, "页面已过期", "表单已过期或缺少安全校验，请刷新页面后重新提交。")


@bp.app_errorhandler(413)
def too_large(_e):
    return error_response(413, "文件过大", "上传的内容过大，单个文件不得超过10MB。")


@bp.app_errorhandler(500)
def server_error(_e):
    return error_response(500, "服务暂时不可用", "服务器出现问题，请稍后再试。")
