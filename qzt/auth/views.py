"""Login and logout by mobile number and password, the user's notices, staff accounts (admin)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from qzt.auth import bp, codes, services, sessions
from qzt.auth.forms import (
    ActivateForm,
    ChangePasswordForm,
    CodeRequestForm,
    ForgotPasswordForm,
    LoginForm,
    StaffAccountForm,
)
from qzt.auth.permissions import admin_required
from qzt.core import notifications
from qzt.core.forms import EmptyForm
from qzt.core.http import client_ip, is_fragment, safe_next
from qzt.core.limits import GUESSING
from qzt.extensions import db, limiter
from qzt.models import Role, User
from qzt.rules import codes as code_rules
from qzt.rules import phone as phones

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
    form = LoginForm(phone=prefilled_phone())
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.phone.data, form.password.data, ip=client_ip())
        except services.LockedOut as locked:
            db.session.commit()  # the failure that locked it counts
            form.password.errors.append(str(locked))
            return render_template("auth/login.html", form=form), 429
        db.session.commit()
        if user:
            sessions.start(user)
            flash("登录成功", "success")
            return redirect(safe_next(request.args.get("next"), LANDING.get(user.role, "directory.home")))
        form.password.errors.append("手机号码或密码不正确")
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    """Log out (a POST with the CSRF token, never a GET): every session of the account ends."""
    if current_user.is_authenticated:
        services.log_out(current_user._get_current_object(), client_ip())
        db.session.commit()
    sessions.end()
    flash("已退出登录", "success")
    return redirect(url_for("directory.home"))


def prefilled_phone() -> str | None:
    """`?phone=` (registration's offer to a number that has an account): a mobile number, else nothing."""
    number = phones.normalize(request.args.get("phone") or "")
    return number if phones.is_mobile(number) else None


def request_code(purpose: str, page):
    """[获取验证码] on a page whose form has a phone field: the code is queued (or why not is said); an
    htmx request gets the status line only, a plain one the whole page again with what was typed."""
    form = CodeRequestForm()
    sent, problem = None, None
    if form.validate_on_submit():
        try:
            sent = codes.request(form.phone.data, purpose, client_ip())
        except codes.CodeError as refused:
            problem = str(refused)
        db.session.commit()
    else:
        problem = "；".join(e for errors in form.errors.values() for e in errors)
    if is_fragment():
        return render_template("auth/_code_status.html", sent=sent, problem=problem)
    return page(sent=sent, problem=problem), 422 if problem else 200


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(GUESSING, methods=["POST"])
def forgot_password():
    """[忘记密码]: prove the number with an SMS code, set a new password; every session ends."""
    form = ForgotPasswordForm(phone=prefilled_phone())

    def page(**status):
        return render_template("auth/forgot_password.html", form=form, **status)

    if request.form.get("action") == "code":
        return request_code(code_rules.RESET, page)
    if form.validate_on_submit():
        try:
            codes.prove(form.phone.data, code_rules.RESET, form.code.data)
            services.reset_password(form.phone.data, form.password.data, client_ip())
        except codes.CodeError as refused:
            db.session.commit()  # a wrong try counts
            form.code.errors.append(str(refused))
        except services.AccountError as refused:
            db.session.commit()  # the code is used up: it was proved
            form.phone.errors.append(str(refused))
        else:
            db.session.commit()
            flash("密码已重设，请用新密码登录", "success")
            return redirect(url_for("auth.login"))
    return page(), 422 if form.errors else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """我的账号: who one is, and [修改密码], which ends the account's other sessions."""
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            services.change_password(user, form.current.data, form.password.data, client_ip())
        except services.AccountError as refused:
            db.session.rollback()
            form.password.errors.append(str(refused))
        else:
            db.session.commit()
            sessions.start(user)
            flash("密码已修改，其他设备上的登录已退出", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), 422 if form.errors else 200


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
            sessions.start(user)
            flash("密码已设置，欢迎使用佛山企质通", "success")
            return redirect(url_for(LANDING.get(user.role, "directory.home")))
    return render_template("auth/activate.html", form=form), 422 if form.errors else 200
