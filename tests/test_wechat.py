"""The WeChat way in (Art. 10, issue 16), against a fake of WeChat's servers (tests/wechat_fake.py):
[微信一键登录] inside WeChat, the first binding by SMS code, silent login afterwards, one-time state and
codes, unbinding, the official account's menu, and notices by subscription message beside SMS."""

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import factories
import pytest
import requests
import sqlalchemy as sa
import wechat_fake
from factories import PASSWORD, application_data
from shared_fixtures import csrf, page_text, sms_code

from qzt.core import clock, files, notifications
from qzt.core.sms import LogBackend
from qzt.extensions import db
from qzt.models import ApplicationState, DeliveryState, Notification, Role, User, WechatIdentity
from qzt.rules import uploads
from qzt.wechat import services

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN"
)
SAFARI_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile/15E148 Safari/604.1"
WX = {"User-Agent": WECHAT_UA}
PHONE = "13800138000"


@pytest.fixture
def fake(app):
    with wechat_fake.running(app) as fake:
        yield fake


def _open_in_wechat(client, fake, next_url: str = ""):
    """Tap [微信一键登录] (or a menu link): off to WeChat's authorize page, which comes straight back."""
    start = client.get("/wechat/login" + (f"?next={next_url}" if next_url else ""), headers=WX)
    assert start.status_code == 302 and start.location.startswith(fake.base + "connect/oauth2/authorize")
    query = parse_qs(urlsplit(start.location).query)
    assert query["scope"] == ["snsapi_base"] and query["redirect_uri"] == ["http://localhost/wechat/callback"]
    back = requests.get(start.location.split("#")[0], allow_redirects=False, timeout=5)
    return urlsplit(back.headers["Location"])


def _callback(client, parts):
    return client.get(f"{parts.path}?{parts.query}", headers=WX)


def _bind(client, phone: str = PHONE):
    code = sms_code(client, "/wechat/bind", phone)
    return client.post(
        "/wechat/bind", data={"phone": phone, "code": code, "csrf_token": csrf(client, "/wechat/bind")}
    )


def _logged_in_as(client) -> str:
    response = client.get("/account")
    return page_text(response) if response.status_code == 200 else ""


def _bound_client(app, fake, make_user, phone: str = PHONE):
    make_user(Role.ENTERPRISE, phone, name="企业小张")
    client = app.test_client()
    assert _callback(client, _open_in_wechat(client, fake)).location == "/wechat/bind"
    assert _bind(client, phone).status_code == 302
    return client


# --- the button -----------------------------------------------------------------------------------------


def test_no_button_when_wechat_is_not_set_up(client):
    html = page_text(client.get("/login", headers=WX))
    assert "微信一键登录" not in html
    assert client.get("/wechat/login?next=/notices", headers=WX).location == "/login?next=/notices"


def test_no_button_outside_wechat(client, fake):
    assert "微信一键登录" not in page_text(client.get("/login", headers={"User-Agent": SAFARI_UA}))
    assert client.get("/wechat/login", headers={"User-Agent": SAFARI_UA}).location == "/login"
    assert fake.calls == []


def test_button_inside_wechat_when_set_up(client, fake):
    html = page_text(client.get("/login?next=/notices", headers=WX))
    assert "微信一键登录" in html and 'href="/wechat/login?next=/notices"' in html


# --- first binding, then silent login -------------------------------------------------------------------


def test_first_time_binds_after_sms_code_then_logs_in_without_typing(app, fake, make_user):
    user = make_user(Role.ENTERPRISE, PHONE, name="企业小张")
    client = app.test_client()
    arrived = _callback(client, _open_in_wechat(client, fake, "/notices"))
    assert arrived.location == "/wechat/bind"
    assert "企业小张" not in _logged_in_as(client)  # not logged in before the number is proved

    wrong = client.post(
        "/wechat/bind", data={"phone": PHONE, "code": "000000", "csrf_token": csrf(client, "/wechat/bind")}
    )
    assert wrong.status_code == 422 and "请先点击[获取验证码]" in page_text(wrong)
    done = _bind(client)
    assert done.status_code == 302 and done.location == "/notices"
    assert "企业小张" in _logged_in_as(client)
    identity = db.session.scalar(sa.select(WechatIdentity))
    assert (identity.user_id, identity.openid, identity.unionid) == (user.id, fake.openid, fake.unionid)

    # Another day, a new WeChat session: the menu's 我的咨询 opens logged in, nothing typed.
    later = app.test_client()
    landed = _callback(later, _open_in_wechat(later, fake, "/consultations"))
    assert landed.status_code == 302 and landed.location == "/consultations"
    assert "企业小张" in _logged_in_as(later)


def test_binding_needs_an_account_for_the_number(app, fake):
    client = app.test_client()
    _callback(client, _open_in_wechat(client, fake))
    refused = _bind(client, "13900000009")
    assert refused.status_code == 422 and "这个手机号码还没有账号，请先注册" in page_text(refused)
    assert db.session.scalar(sa.select(sa.func.count(WechatIdentity.id))) == 0


def test_staff_accounts_are_not_bound(app, fake, make_user):
    make_user(Role.OPERATOR, "13900000004")
    client = app.test_client()
    _callback(client, _open_in_wechat(client, fake))
    refused = _bind(client, "13900000004")
    assert "平台工作人员账号不能绑定微信" in page_text(refused)
    assert db.session.scalar(sa.select(sa.func.count(WechatIdentity.id))) == 0


# --- state and code are one-time ------------------------------------------------------------------------


def test_replayed_state_is_refused(app, fake, make_user):
    client = _bound_client(app, fake, make_user)
    client.post("/logout", data={"csrf_token": csrf(client, "/account")})
    parts = _open_in_wechat(client, fake)
    assert _callback(client, parts).status_code == 302  # logged in
    client.post("/logout", data={"csrf_token": csrf(client, "/account")})

    replay = _callback(client, parts)  # the same link again (from history, or someone else's)
    assert replay.status_code == 400
    assert "这个微信登录链接已失效" in page_text(replay) and "重新点击[微信一键登录]" in page_text(replay)
    assert "企业小张" not in _logged_in_as(client)


def test_forged_state_is_refused_and_burns_the_real_one(app, fake, make_user):
    client = _bound_client(app, fake, make_user)
    client.post("/logout", data={"csrf_token": csrf(client, "/account")})
    parts = _open_in_wechat(client, fake)
    query = parse_qs(parts.query)
    forged = client.get(f"/wechat/callback?code={query['code'][0]}&state=forged", headers=WX)
    assert forged.status_code == 400 and "这个微信登录链接已失效" in page_text(forged)
    assert _callback(client, parts).status_code == 400  # the session's state was used up by the try
    assert "企业小张" not in _logged_in_as(client)

    stranger = app.test_client()  # a state from another session is no good either
    assert _callback(stranger, parts).status_code == 400


@pytest.mark.parametrize("how", ["used", "expired"])
def test_used_or_expired_code_is_refused(app, fake, make_user, how):
    client = _bound_client(app, fake, make_user)
    client.post("/logout", data={"csrf_token": csrf(client, "/account")})
    old_code = fake.issue_code()
    if how == "used":
        services.visitor(services.Settings.from_config(app.config), old_code)
    else:
        fake.codes[old_code]["expired"] = True
    parts = _open_in_wechat(client, fake)  # a fresh, valid state ...
    state = parse_qs(parts.query)["state"][0]
    refused = client.get(f"/wechat/callback?code={old_code}&state={state}", headers=WX)  # ... an old code
    assert refused.status_code == 400
    assert "微信授权已过期或已使用，请重新点击[微信一键登录]" in page_text(refused)
    assert "企业小张" not in _logged_in_as(client)


# --- unbinding ------------------------------------------------------------------------------------------


def test_unbind_from_the_account_page(app, fake, make_user):
    client = _bound_client(app, fake, make_user)
    page = page_text(client.get("/account", headers=WX))
    assert "已绑定微信" in page and "解除微信绑定" in page

    assert client.post("/wechat/unbind").status_code == 400  # no CSRF token: nothing happens
    assert db.session.scalar(sa.select(sa.func.count(WechatIdentity.id))) == 1
    done = client.post("/wechat/unbind", data={"csrf_token": csrf(client, "/account")})
    assert done.location == "/account"
    assert db.session.scalar(sa.select(sa.func.count(WechatIdentity.id))) == 0
    assert "尚未绑定微信" in page_text(client.get("/account", headers=WX))

    again = app.test_client()  # WeChat no longer logs in: the number must be proved again
    assert _callback(again, _open_in_wechat(again, fake)).location == "/wechat/bind"
    assert "企业小张" not in _logged_in_as(again)


# --- the menu -------------------------------------------------------------------------------------------


def test_menu_is_published_as_data(app, fake, runner):
    app.config["QZT_PUBLIC_URL"] = "https://qzt.example.cn"
    result = runner.invoke(args=["qzt", "wechat-menu"])
    assert result.exit_code == 0, result.output
    login = "https://qzt.example.cn/wechat/login?next="
    assert fake.posted("/cgi-bin/menu/create") == [
        {
            "button": [
                {"type": "view", "name": "机构名录", "url": "https://qzt.example.cn/directory"},
                {"type": "view", "name": "机构入驻", "url": "https://qzt.example.cn/guide"},
                {
                    "name": "我的",
                    "sub_button": [
                        {"type": "view", "name": "我的咨询", "url": login + "/consultations"},
                        {"type": "view", "name": "机构工作台", "url": login + "/workbench"},
                        {"type": "view", "name": "通知", "url": login + "/notices"},
                    ],
                },
            ]
        }
    ]


def test_menu_needs_the_public_url(app, fake, runner):
    result = runner.invoke(args=["qzt", "wechat-menu"])
    assert result.exit_code != 0 and "QZT_PUBLIC_URL" in result.output
    assert fake.posted("/cgi-bin/menu/create") == []


# --- notices --------------------------------------------------------------------------------------------


def _sender(app):
    settings = services.Settings.from_config(app.config)
    return services.SubscriptionSender(settings, json.loads(app.config["QZT_WECHAT_TEMPLATES"]), "x")


def _rows(kind: str) -> list[tuple[str, DeliveryState]]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(Notification).where(Notification.kind == kind).order_by(Notification.id)
    )
    return [(n.channel, n.state) for n in rows]


def test_a_bound_user_gets_a_subscription_notice_once_retried_on_failure(app, fake, make_user):
    _bound_client(app, fake, make_user)
    user = db.session.scalar(sa.select(WechatIdentity)).user
    for _ in range(2):  # asked twice (two ticks of the reminder job): one notice
        notifications.notify(
            user, "deadline-near", "补充材料即将截止", "请于12月1日前补充材料", dedupe_key="dl:1"
        )
    db.session.commit()
    assert _rows("deadline-near") == [("wechat", DeliveryState.PENDING)]  # and no SMS

    fake.refuse_next = 1
    sms, now = LogBackend(), clock.now() + timedelta(seconds=1)
    assert notifications.tick(sms, now=now, wechat_backend=_sender(app)).retried == 1
    assert notifications.tick(sms, now=now, wechat_backend=_sender(app)).sent == 0  # not due yet
    later = now + notifications.BACKOFF[0]
    assert notifications.tick(sms, now=later, wechat_backend=_sender(app)).sent == 1
    assert notifications.tick(sms, now=later + timedelta(days=1), wechat_backend=_sender(app)).sent == 0

    sent = fake.posted("/cgi-bin/message/subscribe/bizsend")
    assert len(sent) == 2  # the refused attempt and the one that went through
    assert sent[-1]["touser"] == fake.openid and sent[-1]["template_id"] == "TPL-DEADLINE"
    assert sent[-1]["data"]["thing1"] == {"value": "补充材料即将截止"}
    assert [m for m in sms.sent if m.kind == "deadline-near"] == [] and _rows("deadline-near") == [
        ("wechat", DeliveryState.SENT)
    ]


def test_admission_result_goes_by_sms_too(app, fake, make_user, runner):
    _bound_client(app, fake, make_user)
    user = db.session.scalar(sa.select(WechatIdentity)).user
    notifications.notify(user, "approved", "入驻申请已通过", "已批准入驻", sms_params={"name": "某所"})
    db.session.commit()
    assert sorted(_rows("approved")) == [("sms", DeliveryState.PENDING), ("wechat", DeliveryState.PENDING)]
    assert [n.title for n in notifications.for_user(user)] == ["入驻申请已通过"]  # listed once on the site

    result = runner.invoke(args=["qzt", "tick"])  # the minute job, as cron runs it
    assert result.exit_code == 0, result.output
    assert sorted(_rows("approved")) == [("sms", DeliveryState.SENT), ("wechat", DeliveryState.SENT)]
    assert [m["template_id"] for m in fake.posted("/cgi-bin/message/subscribe/bizsend")] == ["TPL-APPROVED"]


def test_channel_choice_on_the_account_page(app, fake, make_user):
    client = _bound_client(app, fake, make_user)
    user = db.session.scalar(sa.select(WechatIdentity)).user
    saved = client.post("/wechat/channels", data={"notify_by": "sms", "csrf_token": csrf(client, "/account")})
    assert saved.location == "/account"
    notifications.notify(user, "deadline-near", "补充材料即将截止", "请补充")
    client.post("/wechat/channels", data={"notify_by": "both", "csrf_token": csrf(client, "/account")})
    notifications.notify(user, "deadline-near", "补充材料即将截止", "请补充")
    db.session.commit()
    assert [c for c, _ in _rows("deadline-near")] == ["sms", "wechat", "sms"]


def test_unbound_users_and_kinds_without_template_stay_on_sms(app, fake, make_user):
    bound = _bound_client(app, fake, make_user)
    assert bound is not None
    user = db.session.scalar(sa.select(WechatIdentity)).user
    other = make_user(Role.ENTERPRISE, "13800138001")
    notifications.notify(other, "deadline-near", "t", "b")
    notifications.notify(user, "rating-follow-up", "t", "b")  # no template configured for this kind
    db.session.commit()
    assert _rows("deadline-near") == [("sms", DeliveryState.PENDING)]
    assert _rows("rating-follow-up") == [("sms", DeliveryState.PENDING)]


def test_a_declined_subscription_falls_back_to_sms_at_once(app, fake, make_user):
    _bound_client(app, fake, make_user)
    user = db.session.scalar(sa.select(WechatIdentity)).user
    fake.declined.add(fake.openid)  # the user never accepted this template in WeChat
    notifications.notify(user, "deadline-near", "补充材料即将截止", "请补充")
    db.session.commit()

    sms, now = LogBackend(), clock.now() + timedelta(seconds=1)
    assert notifications.tick(sms, now=now, wechat_backend=_sender(app)).failed == 1
    assert _rows("deadline-near") == [("wechat", DeliveryState.FAILED), ("sms", DeliveryState.PENDING)]
    assert notifications.tick(sms, now=now, wechat_backend=_sender(app)).sent == 1
    assert [m.title for m in sms.sent if m.kind == "deadline-near"] == ["补充材料即将截止"]
    assert [n.title for n in notifications.for_user(user)] == ["补充材料即将截止"]  # still listed once


def test_bind_from_the_account_page_after_a_password_login(app, fake, make_user):
    make_user(Role.ENTERPRISE, PHONE, name="企业小张")
    client = app.test_client()
    client.post("/login", data={"phone": PHONE, "password": PASSWORD, "csrf_token": csrf(client)})
    assert "绑定微信" not in page_text(client.get("/account"))  # outside WeChat: nothing new
    page = page_text(client.get("/account", headers=WX))
    assert 'href="/wechat/login?next=/account"' in page

    assert _callback(client, _open_in_wechat(client, fake, "/account")).location == "/wechat/bind"
    assert _bind(client).location == "/account"
    assert db.session.scalar(sa.select(WechatIdentity.openid)) == fake.openid
    # Bound: the same link just goes on.
    assert client.get("/wechat/login?next=/notices", headers=WX).location == "/notices"


# --- pages inside WeChat's browser: uploads from the album and camera, PDFs, no hover ---------------------

SAFARI = {"User-Agent": SAFARI_UA}
OPEN_IN_BROWSER = "如无法打开，请点击右上角“···”，选择“在浏览器打开”后下载"
FROM_ALBUM = "图片可从相册选择或拍照上传；PDF请从“文件”中选择"
QUALIFICATION = {"name": "CMA", "number": "1", "issuer": "省市场监管局", "valid_until": "2030-01-01"}


class _FileInputs(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.found: dict[str, dict] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "file":
            self.found[attrs["name"]] = attrs


def _hint(html: str, name: str) -> str:
    match = re.search(rf'<p class="hint" id="{re.escape(name)}-msg">([^<]*)</p>', html)
    return match[1] if match else ""


def _draft_with_services(user, services_: list[dict]):
    data = application_data(qualifications=[QUALIFICATION], services=services_)
    return factories.make_application(user, state=ApplicationState.DRAFT, signed=False, data=data)


def test_upload_inputs_take_what_the_server_takes_and_say_where_to_find_it_in_wechat(login_as):
    client = login_as(Role.INSTITUTION)
    user = db.session.scalar(sa.select(User).where(User.role == Role.INSTITUTION))
    _draft_with_services(user, [{"category": "branding", "title": "品牌", "content": "x", "featured": True}])

    html = client.get("/onboarding/step/2", headers=WX).get_data(as_text=True)
    inputs = _FileInputs(html).found
    assert set(inputs) == {"licence", "q-0-file"}
    for name, attrs in inputs.items():
        assert attrs["accept"] == "application/pdf,image/jpeg,image/png" == uploads.ACCEPT
        assert "capture" not in attrs  # the camera alone would hide the album and the PDFs in 文件
        assert _hint(html, name) == f"PDF、JPG或PNG，单个文件不超过10MB；{FROM_ALBUM}"

    html = client.get("/onboarding/step/5", headers=WX).get_data(as_text=True)
    case = _FileInputs(html).found["case_images"]
    assert case["accept"] == "image/jpeg,image/png" and "capture" not in case and "multiple" in case
    assert _hint(html, "case_images") == "JPG或PNG，可多选，单个文件不超过10MB；可从相册选择或拍照上传"

    # Outside WeChat the same inputs, and the hint as it was.
    html = client.get("/onboarding/step/2", headers=SAFARI).get_data(as_text=True)
    assert _FileInputs(html).found["licence"]["accept"] == uploads.ACCEPT
    assert _hint(html, "licence") == "PDF、JPG或PNG，单个文件不超过10MB"


def test_a_consultation_attachment_is_offered_the_same_way(login_as, make_institution):
    institution = make_institution()
    client = login_as(Role.ENTERPRISE)
    html = client.get(f"/institutions/{institution.id}/consult", headers=WX).get_data(as_text=True)
    attachment = _FileInputs(html).found["attachment"]
    assert attachment["accept"] == uploads.ACCEPT and "capture" not in attachment
    assert FROM_ALBUM in _hint(html, "attachment")
    html = client.get(f"/institutions/{institution.id}/consult", headers=SAFARI).get_data(as_text=True)
    assert _FileInputs(html).found["attachment"]["accept"] == uploads.ACCEPT
    assert "相册" not in html


def test_no_template_asks_for_the_camera_alone_or_types_the_server_refuses():
    templates = Path(__file__).resolve().parent.parent / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bcapture\b", text), path
        for accept in re.findall(r'accept="([^"{]+)"', text):
            assert accept in (uploads.ACCEPT, uploads.IMAGE_ACCEPT), (path, accept)


def test_in_wechat_the_pledge_pdf_has_the_open_in_browser_hint_beside_it(login_as):
    client = login_as(Role.INSTITUTION)
    user = db.session.scalar(sa.select(User).where(User.role == Role.INSTITUTION))
    factories.make_application(user)

    response = client.get("/onboarding", headers=WX)
    html = page_text(response)
    assert "下载承诺书PDF" in html
    after_link = re.search(r'下载承诺书PDF</a>.*?</p>\s*<p class="hint wechat-hint">([^<]*)</p>', html, re.S)
    assert after_link and after_link[1] == OPEN_IN_BROWSER
    assert "User-Agent" in response.headers["Vary"]  # the page differs by browser: never shared between them

    html = page_text(client.get("/onboarding", headers=SAFARI))
    assert "下载承诺书PDF" in html and "在浏览器打开" not in html


def test_hover_only_changes_colours_never_what_is_shown():
    """Nothing is reachable by hovering alone: a phone has no hover."""
    css = (Path(__file__).resolve().parent.parent / "static/css/site.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    hidden = ("display", "visibility", "opacity", "max-height", "height", "clip", "transform", "content")
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if ":hover" not in selectors:
            continue
        properties = {d.split(":")[0].strip() for d in body.split(";") if ":" in d}
        assert not properties & set(hidden), selectors.strip()


def test_staff_see_the_hint_beside_submitted_files_and_the_pledge_pdf_in_wechat(login_as, make_user):
    applicant = make_user(Role.INSTITUTION, "13600000009")
    licence = files.store_bytes(applicant, "licence", factories.signature_png(), "执照.png")
    application = factories.make_application(applicant, data=application_data(licence_file_id=licence.id))
    staff = login_as(Role.OPERATOR)
    html = page_text(staff.get(f"/staff/applications/{application.id}", headers=WX))
    assert "下载承诺书PDF" in html and html.count(OPEN_IN_BROWSER) == 2  # the materials, the pledge
    html = page_text(staff.get(f"/staff/applications/{application.id}", headers=SAFARI))
    assert "下载承诺书PDF" in html and "在浏览器打开" not in html
