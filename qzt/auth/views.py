"""Login and logout by mobile number and password, the user's notices, staff accounts (admin)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from qzt.auth import bp, services
from qzt.auth.forms import ActivateForm, LoginForm, StaffAccountForm
from qzt.auth.permissions import admin_required
from qzt.core import notifications
from qzt.core.forms import EmptyForm
from qzt.core.http import client_ip, safe_next
from qzt.core.limits import GUESSING
from qzt.extensions import db, limiter
from qzt.models import Role, User

# Where each role lands after login: its own work.
LANDING = {
    Role.ENTERPRISE: "consultations.index",
    Role.INSTITUTION: "consultations.workbench",
    Role.AGENT: "consultations.workbench",
    Role.OPERATOR: "review.applications",
    Role.AUTHORITY: "review.applications",
    Role.ADMIN: "review.applications",
}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(GUESSING, methods=["POST"])
def login():
    """Log in with 手机号码 and 密码."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.phone.data, form.password.data, ip=client_ip())
        except services.LockedOut as locked:
            db.session.commit()  # the failure that locked it counts
            form.password.errors.append(str(locked))
            return render_template("auth/login.html", form=form), 429
        db.session.commit()
        if user:
            login_user(user)
            flash("登录成功", "success")
            return redirect(safe_next(request.args.get("next"), LANDING.get(user.role, "directory.home")))
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
    notifications.mark_all_read(current_user)
    db.session.commit()
    return redirect(url_for("auth.notices"))


@bp.route("/staff/users", methods=["GET", "POST"])
@admin_required
def staff_users():
    """Admin: create staff accounts (operator, authority, admin) and switch them off."""
    form = StaffAccountForm()
    if form.validate_on_submit():
        try:
            user = services.create_staff_account(
                Role(form.role.data),
                form.phone.data,
                form.name.data,
                form.password.data,
                current_user,
                client_ip(),
            )
        except services.AccountError as refused:
            db.session.rollback()
            form.phone.errors.append(str(refused))
        else:
            db.session.commit()
            flash(f"已创建账号 {user.phone}", "success")
            return redirect(url_for("auth.staff_users"))
    staff = services.staff_accounts()
    return render_template("auth/staff_users.html", staff=staff, form=form), 422 if form.errors else 200


@bp.post("/staff/users/<id:user_id>/active")
@admin_required
def toggle_staff(user_id: int):
    """Admin: deactivate or reactivate a staff account."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff or user.id == current_user.id:
        abort(404)
    if EmptyForm().validate_on_submit():
        services.toggle_staff_account(user, current_user, client_ip())
        db.session.commit()
    return redirect(url_for("auth.staff_users"))


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit(GUESSING, methods=["POST"])
def activate():
    """客服首次登录: the code sent by SMS and a password of one's own; then logged in."""
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            user = services.activate(form.phone.data, form.code.data, form.password.data)
        except services.AccountError as refused:
            db.session.rollback()
            form.code.errors.append(str(refused))
        else:
            db.session.commit()
            login_user(user)
            flash("密码已设置，欢迎使用佛山企质通", "success")
            return redirect(url_for(LANDING.get(user.role, "directory.home")))
    return render_template("auth/activate.html", form=form), 422 if form.errors else 200
