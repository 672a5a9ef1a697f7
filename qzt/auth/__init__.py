"""Accounts: login and logout, the user's notices, staff accounts, and the role checks every area uses."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


def init_app(app) -> None:
    from qzt.auth import services, sessions
    from qzt.extensions import login_manager

    login_manager.user_loader(services.load_user)
    app.before_request(sessions.check)
