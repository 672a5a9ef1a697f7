"""WeChat, the way in of Art. 10: the official account's menu, web authorization (网页授权) to log in
without typing, and subscription notices (订阅通知) beside SMS. Active when QZT_WECHAT_APPID and
QZT_WECHAT_SECRET are set."""

from flask import Blueprint

bp = Blueprint("wechat", __name__)


def init_app(app) -> None:
    from qzt.rules.wechat import parse_templates
    from qzt.wechat import views

    parse_templates(app.config.get("QZT_WECHAT_TEMPLATES"))  # a wrong value is refused at start-up
    app.context_processor(views.template_helpers)
