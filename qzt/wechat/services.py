"""WeChat through wechatpy: web authorization (snsapi_base) to know who opens the site, binding that
identity to an account once its number is proved, the menu, and subscription notices for the outbox.

Every call goes to QZT_WECHAT_API_BASE (WeChat's own address unless a test points it elsewhere) with a
timeout; a failure becomes WechatError with a message for the user (or the outbox's error column).
"""

from dataclasses import dataclass
from datetime import datetime

import requests
import sqlalchemy as sa
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatException
from wechatpy.oauth import WeChatOAuth

from qzt.auth import codes
from qzt.core import audit
from qzt.core.notifications import Undeliverable
from qzt.extensions import db
from qzt.models import User, WechatIdentity
from qzt.rules import codes as code_rules
from qzt.rules import phone as phones
from qzt.rules import wechat
from qzt.rules.calendar import to_beijing
from qzt.rules.phone import mask

TIMEOUT_SECONDS = 10
# WeChat's answers to a code that was used already, is unknown, or has expired (5 minutes).
CODE_ERRORS = {40029, 40163, 41008}
USER_DECLINED = 43101  # bizsend: the user has not subscribed to (or refused) this template


class WechatError(ValueError):
    """A message for the user saying what happened and what to do."""


@dataclass(frozen=True)
class Settings:
    appid: str
    secret: str
    api_base: str = "https://api.weixin.qq.com/"
    oauth_base: str = "https://open.weixin.qq.com/connect/"

    @classmethod
    def from_config(cls, config) -> "Settings | None":
        """None unless both QZT_WECHAT_APPID and QZT_WECHAT_SECRET are set: then nothing of WeChat shows."""
        appid, secret = config.get("QZT_WECHAT_APPID"), config.get("QZT_WECHAT_SECRET")
        if not (appid and secret):
            return None
        return cls(
            appid,
            secret,
            _slash(config.get("QZT_WECHAT_API_BASE") or cls.api_base),
            _slash(config.get("QZT_WECHAT_OAUTH_BASE") or cls.oauth_base),
        )


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


class _Session(requests.Session):
    """Every request with a timeout: wechatpy leaves some without one."""

    def request(self, method, url, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = TIMEOUT_SECONDS
        return super().request(method, url, *args, **kwargs)


class _Client(WeChatClient):
    """wechatpy's client, its token fetched from the configured base too (wechatpy hard-codes it)."""

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def client(settings: Settings) -> WeChatClient:
    c = _Client(settings.appid, settings.secret, timeout=TIMEOUT_SECONDS)
    c.API_BASE_URL = settings.api_base + "cgi-bin/"
    c._http = _Session()
    return c


def _oauth(settings: Settings, redirect_uri: str = "", state: str = "") -> WeChatOAuth:
    oauth = WeChatOAuth(settings.appid, settings.secret, redirect_uri, scope="snsapi_base", state=state)
    oauth.API_BASE_URL = settings.api_base
    oauth.OAUTH_BASE_URL = settings.oauth_base
    oauth._http = _Session()
    return oauth


def authorize_url(settings: Settings, redirect_uri: str, state: str) -> str:
    """Where WeChat asks nothing (snsapi_base) and comes back to redirect_uri with a code and the state."""
    return _oauth(settings, redirect_uri, state).authorize_url


@dataclass(frozen=True)
class Visitor:
    openid: str
    unionid: str | None


def visitor(settings: Settings, code: str) -> Visitor:
    """Who came back from WeChat: the code exchanged (once; WeChat refuses it a second time)."""
    try:
        answer = _oauth(settings).fetch_access_token(code)
    except WeChatException as e:
        if getattr(e, "errcode", None) in CODE_ERRORS:
            raise WechatError("微信授权已过期或已使用，请重新点击[微信一键登录]") from e
        raise WechatError("微信暂时无法确认您的身份，请稍后重试，或用手机号码和密码登录") from e
    except requests.RequestException as e:
        raise WechatError("暂时连不上微信，请稍后重试，或用手机号码和密码登录") from e
    return Visitor(answer["openid"], answer.get("unionid") or None)


def identity_of(openid: str) -> WechatIdentity | None:
    return db.session.scalar(sa.select(WechatIdentity).where(WechatIdentity.openid == openid))


def identity_for(user: User) -> WechatIdentity | None:
    return db.session.scalar(sa.select(WechatIdentity).where(WechatIdentity.user_id == user.id))


def user_to_log_in(openid: str) -> User | None:
    """The account this WeChat is bound to, if it may still log in that way."""
    identity = identity_of(openid)
    if identity is None or not identity.user.active or not wechat.may_bind(identity.user.is_staff):
        return None
    return identity.user


def bind_by_phone(number: str, typed_code: str, found: Visitor, ip: str = "") -> User:
    """The SMS code proves the number: its account is bound to this WeChat (a former binding of either
    side is replaced). codes.CodeError or WechatError otherwise."""
    codes.prove(number, code_rules.WECHAT, typed_code)
    user = db.session.scalar(sa.select(User).where(User.phone == phones.normalize(number)))
    if user is None:
        raise WechatError("这个手机号码还没有账号，请先注册，注册后再在微信中点击[微信一键登录]")
    if not user.active:
        raise WechatError("这个账号已停用，请联系平台运维机构")
    if not wechat.may_bind(user.is_staff):
        raise WechatError("平台工作人员账号不能绑定微信，请用手机号码和密码登录")
    for old in (identity_of(found.openid), identity_for(user)):
        if old is not None:
            audit.record(old.user, "wechat_unbound", old.user, note="换绑微信", ip=ip)
            db.session.delete(old)
    db.session.flush()
    identity = WechatIdentity(user_id=user.id, openid=found.openid, unionid=found.unionid)
    db.session.add(identity)
    db.session.flush()
    audit.record(user, "wechat_bound", user, note=f"手机号码 {mask(user.phone)}", ip=ip)
    return user


def unbind(user: User, ip: str = "") -> bool:
    """[解除微信绑定]: WeChat no longer logs in to this account nor carries its notices."""
    identity = identity_for(user)
    if identity is None:
        return False
    db.session.delete(identity)
    db.session.flush()
    audit.record(user, "wechat_unbound", user, ip=ip)
    return True


def set_notify_by(user: User, choice: str, ip: str = "") -> None:
    identity = identity_for(user)
    if identity is None or choice not in wechat.NOTIFY_CHOICES:
        raise WechatError("请先绑定微信，再选择通知方式")
    before = identity.notify_by
    identity.notify_by = choice
    db.session.flush()
    audit.record(
        user, "wechat_notify_by", user, before={"notify_by": before}, after={"notify_by": choice}, ip=ip
    )


def menu_payload(menu: list[dict], url_for_endpoint) -> dict:
    """The menu as WeChat's menu/create wants it; url_for_endpoint(endpoint, login) gives each address."""

    def button(item: dict) -> dict:
        if "sub_button" in item:
            return {"name": item["name"], "sub_button": [button(sub) for sub in item["sub_button"]]}
        url = url_for_endpoint(item["endpoint"], item.get("login", False))
        return {"type": "view", "name": item["name"], "url": url}

    return {"button": [button(item) for item in menu]}


def publish_menu(settings: Settings, payload: dict) -> None:
    try:
        client(settings).menu.create(payload)
    except (WeChatException, requests.RequestException) as e:
        raise WechatError(f"微信拒绝了菜单：{e}") from e


class SubscriptionSender:
    """The outbox's WeChat channel (qzt.core.notifications.tick): a subscription message (订阅通知,
    message/subscribe/bizsend) with the template of the notice's kind. The template's keywords, in
    this order: thing1 the title, thing2 the text, time3 when it happened."""

    def __init__(self, settings: Settings, templates: dict[str, str], notices_url: str):
        self.client = client(settings)
        self.templates = templates
        self.notices_url = notices_url

    def send(self, *, openid: str, kind: str, title: str, body: str, created_at: datetime, out_id: str):
        template = self.templates.get(kind)
        if not template:
            raise WechatError(f"no subscription template for kind {kind!r} (QZT_WECHAT_TEMPLATES)")
        data = {
            "thing1": {"value": wechat.thing(title)},
            "thing2": {"value": wechat.thing(body)},
            "time3": {"value": f"{to_beijing(created_at):%Y-%m-%d %H:%M}"},
        }
        try:
            self.client.message.send_subscribe_message(openid, template, data, page=self.notices_url)
        except WeChatException as e:
            if getattr(e, "errcode", None) == USER_DECLINED:
                raise Undeliverable(f"bizsend #{out_id}: the user declined WeChat notices ({e})") from e
            raise WechatError(f"bizsend #{out_id} failed: {type(e).__name__}: {e}") from e
        except requests.RequestException as e:
            raise WechatError(f"bizsend #{out_id} failed: {type(e).__name__}: {e}") from e
