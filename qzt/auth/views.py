"""Login and logout by mobile number and password."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from qzt import notifications
from qzt.auth.forms import LoginForm
from qzt.auth.services import authenticate
from qzt.extensions import db

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot send the user elsewhere after login."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("directory.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with 手机号码 and 密码."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.phone.data, form.password.data)
        if user:
            login_user(user)
            flash("登录成功", "success")
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("手机号码或密码不正确")
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    """Log out (a POST with the CSRF token, never a GET)."""
    logout_user()
    flash("已退出登录", "success")
    return redirect(url_for("directory.home"))


@bp.get("/notices")
@login_required
def notices():
    """The user's notices (the same ones sent by SMS)."""
    return render_template("auth/notices.html", notices=notifications.for_user(current_user))


@bp.post("/notices/read")
@login_required
def mark_notices_read():
    """[全部标为已读]."""
    for notice in notifications.unread_for(current_user):
        notifications.mark_read(notice, current_user)
    db.session.commit()
    return redirect(url_for("auth.notices"))
