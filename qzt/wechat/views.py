"""WeChat login: [微信一键登录] and the menu's links start here (/wechat/login), WeChat comes back to
/wechat/callback, a first visit binds the account by SMS code (/wechat/bind); the account page unbinds
and chooses how notices come."""

import secrets
from hmac import compare_digest

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from qzt.auth import sessions
from qzt.auth.codes import CodeError
from qzt.auth.views import LANDING, request_code
from qzt.core import clock
from qzt.core.forms import EmptyForm
from qzt.core.http import client_ip, external_url, safe_next
from qzt.core.limits import GUESSING
from qzt.extensions import db, limiter
from qzt.rules import codes as code_rules
from qzt.rules import wechat
from qzt.wechat import bp, services
from qzt.wechat.forms import BindForm, ChannelsForm

STATE = "qzt_wechat_state"  # {"value": one-time state, "next": where to go}
PENDING = "qzt_wechat_pending"  # {"openid", "unionid", "at", "next"}: came back from WeChat, not bound yet
PENDING_SECONDS = 10 * 60


def _settings() -> services.Settings | None:
    return services.Settings.from_config(current_app.config)


def template_helpers() -> dict:
    def wechat_login_offered() -> bool:
        return (
            _settings() is not None
            and wechat.in_wechat(request.user_agent.string)
            and not current_user.is_authenticated
        )

    def wechat_account() -> dict | None:
        """The account page's WeChat section, None when WeChat is not set up."""
        if _settings() is None or not current_user.is_authenticated:
            return None
        identity = services.identity_for(current_user)
        form = ChannelsForm(notify_by=identity.notify_by if identity else wechat.NOTIFY_WECHAT)
        return {
            "identity": identity,
            "channels": form,
            "may_bind": wechat.may_bind(current_user.is_staff),
            "in_wechat": wechat.in_wechat(request.user_agent.string),
        }

    return {"wechat_login_offered": wechat_login_offered, "wechat_account": wechat_account}


@bp.get("/wechat/login")
def login():
    """[微信一键登录], and the menu's links: off to WeChat (which asks nothing) and back to the callback."""
    target = request.args.get("next") or ""
    settings = _settings()
    in_wechat = settings is not None and wechat.in_wechat(request.user_agent.string)
    # Logged in already: on, unless this is [绑定微信] (in WeChat, not bound yet).
    if current_user.is_authenticated and not (in_wechat and services.identity_for(current_user) is None):
        return redirect(safe_next(target, LANDING.get(current_user.role, "directory.home")))
    if not in_wechat:
        return redirect(url_for("auth.login", next=target or None))
    state = secrets.token_urlsafe(16)
    session[STATE] = {"value": state, "next": target}
    return redirect(services.authorize_url(settings, external_url("wechat.callback"), state))


def _refused(message: str, target: str = ""):
    return render_template("wechat/refused.html", message=message, next=target), 400


@bp.get("/wechat/callback")
@limiter.limit(GUESSING)
def callback():
    """WeChat came back with a code: a bound WeChat logs in; a new one is asked to prove its number."""
    settings = _settings()
    started = session.pop(STATE, None)  # one time only, whatever happens next
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if settings is None:
        return redirect(url_for("auth.login"))
    if not started or not state or not compare_digest(str(started.get("value", "")), state):
        return _refused("这个微信登录链接已失效（只能用一次，且须从本页发起）。请重新点击[微信一键登录]。")
    target = started.get("next") or ""
    if not code:
        return _refused("您没有同意微信授权，可以改用手机号码和密码登录。", target)
    try:
        found = services.visitor(settings, code)
    except services.WechatError as e:
        return _refused(str(e), target)
    user = services.user_to_log_in(found.openid)
    if user is not None:
        sessions.start(user)
        flash("已通过微信登录", "success")
        return redirect(safe_next(target, LANDING.get(user.role, "directory.home")))
    session[PENDING] = {
        "openid": found.openid,
        "unionid": found.unionid,
        "at": int(clock.now().timestamp()),
        "next": target,
    }
    return redirect(url_for("wechat.bind"))


def _pending() -> dict | None:
    pending = session.get(PENDING)
    if not pending or int(clock.now().timestamp()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    return pending


@bp.route("/wechat/bind", methods=["GET", "POST"])
@limiter.limit(GUESSING, methods=["POST"])
def bind():
    """首次微信登录: prove the account's number with an SMS code; the WeChat is bound and logged in."""
    pending = _pending()
    if pending is None:
        session.pop(PENDING, None)
        flash("微信登录已超时，请重新点击[微信一键登录]", "warning")
        return redirect(url_for("auth.login"))
    form = BindForm()

    def page(**status):
        return render_template("wechat/bind.html", form=form, **status)

    if request.form.get("action") == "code":
        return request_code(code_rules.WECHAT, page)
    if form.validate_on_submit():
        found = services.Visitor(pending["openid"], pending.get("unionid"))
        try:
            user = services.bind_by_phone(form.phone.data, form.code.data, found, client_ip())
        except CodeError as refused:
            db.session.commit()  # a wrong try counts
            form.code.errors.append(str(refused))
        except services.WechatError as refused:
            db.session.commit()  # the code is used up: it was proved
            form.phone.errors.append(str(refused))
        else:
            db.session.commit()
            sessions.start(user)  # also forgets the pending WeChat
            flash("已绑定微信，以后在微信中打开佛山企质通会自动登录", "success")
            return redirect(safe_next(pending.get("next"), LANDING.get(user.role, "directory.home")))
    return page(), 422 if form.errors else 200


@bp.post("/wechat/unbind")
@login_required
def unbind():
    """[解除微信绑定] on 我的账号."""
    if EmptyForm().validate_on_submit() and services.unbind(current_user._get_current_object(), client_ip()):
        db.session.commit()
        flash("已解除微信绑定，以后请用手机号码和密码登录", "success")
    return redirect(url_for("auth.account"))


@bp.post("/wechat/channels")
@login_required
def channels():
    """[保存通知方式] on 我的账号."""
    form = ChannelsForm()
    if form.validate_on_submit():
        try:
            services.set_notify_by(current_user._get_current_object(), form.notify_by.data, client_ip())
        except services.WechatError as refused:
            flash(str(refused), "warning")
        else:
            db.session.commit()
            flash("通知方式已保存", "success")
    else:
        flash("请选择通知方式", "warning")
    return redirect(url_for("auth.account"))
