"""A fake of WeChat's servers for the tests: the endpoints qzt.wechat calls, served by werkzeug from a
thread on 127.0.0.1, so that wechatpy talks HTTP as it would to api.weixin.qq.com and nothing leaves the
machine. It keeps what it received (`calls`) for the tests to read.

- GET  /connect/oauth2/authorize       WeChat's authorization page: answers at once (snsapi_base asks
                                       nothing) with a redirect back carrying a new code and the state
- GET  /sns/oauth2/access_token        a code -> the openid (unionid); a code works once, for 5 minutes
- GET  /cgi-bin/token                  the official account's access token
- POST /cgi-bin/menu/create            the menu
- POST /cgi-bin/message/subscribe/bizsend   a subscription message; `refuse_next` makes it fail for a
                                       while, `declined` for good
"""

import json
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

APPID = "wx0123456789abcdef"
SECRET = "fake-secret-for-tests"


@dataclass
class Fake:
    base: str = ""
    openid: str = "oFAKE-openid-0001"  # who is "using WeChat" when the authorize page is opened
    unionid: str | None = "uFAKE-unionid-0001"
    codes: dict = field(default_factory=dict)  # code -> {"openid", "unionid", "used", "expired"}
    calls: list = field(default_factory=list)  # (method, path, query, json body)
    refuse_next: int = 0  # bizsend answers "system error" this many times
    declined: set = field(default_factory=set)  # openids that refused the subscription (43101)
    token: str = field(default_factory=lambda: secrets.token_hex(8))

    def issue_code(self, openid: str | None = None, unionid: str | None = None) -> str:
        code = secrets.token_hex(8)
        self.codes[code] = {
            "openid": openid or self.openid,
            "unionid": unionid,
            "used": False,
            "expired": False,
        }
        return code

    def posted(self, path: str) -> list[dict]:
        return [body for method, p, _query, body in self.calls if method == "POST" and p == path]

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = (
            json.loads(request.get_data() or b"null") if request.method == "POST" else None
        )  # no JSON header
        self.calls.append((request.method, request.path, dict(request.args), body))
        return self._answer(request, body)(environ, start_response)

    def _answer(self, request: Request, body) -> Response:
        args = request.args
        path = request.path
        if path == "/connect/oauth2/authorize":
            if args.get("appid") != APPID or args.get("scope") != "snsapi_base":
                return _json({"errcode": 10003, "errmsg": "redirect_uri domain or scope wrong"})
            code = self.issue_code(self.openid, self.unionid)
            query = urlencode({"code": code, "state": args.get("state", "")})
            return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})
        if path == "/sns/oauth2/access_token":
            if args.get("appid") != APPID or args.get("secret") != SECRET:
                return _json({"errcode": 40125, "errmsg": "invalid appsecret"})
            ticket = self.codes.get(args.get("code", ""))
            if ticket is None or ticket["expired"]:
                return _json({"errcode": 40029, "errmsg": "invalid code"})
            if ticket["used"]:
                return _json({"errcode": 40163, "errmsg": "code been used"})
            ticket["used"] = True
            answer = {
                "access_token": "web-" + secrets.token_hex(4),
                "expires_in": 7200,
                "refresh_token": "refresh",
                "openid": ticket["openid"],
                "scope": "snsapi_base",
            }
            if ticket["unionid"]:
                answer["unionid"] = ticket["unionid"]
            return _json(answer)
        if path == "/cgi-bin/token":
            if args.get("appid") != APPID or args.get("secret") != SECRET:
                return _json({"errcode": 40125, "errmsg": "invalid appsecret"})
            return _json({"access_token": self.token, "expires_in": 7200})
        if args.get("access_token") != self.token:
            return _json({"errcode": 40014, "errmsg": "invalid access_token"})
        if path == "/cgi-bin/menu/create":
            return _json({"errcode": 0, "errmsg": "ok"})
        if path == "/cgi-bin/message/subscribe/bizsend":
            if body["touser"] in self.declined:
                return _json({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
            if self.refuse_next:
                self.refuse_next -= 1
                return _json({"errcode": -1, "errmsg": "system error"})
            return _json({"errcode": 0, "errmsg": "ok"})
        return _json({"errcode": 404, "errmsg": "no such endpoint in the fake"}, 404)


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")


@contextmanager
def running(app):
    """The fake, running, and the app's WeChat settings pointing at it (a test module's fixture)."""
    fake = Fake()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.base = f"http://127.0.0.1:{server.server_port}/"
    app.config.update(
        QZT_WECHAT_APPID=APPID,
        QZT_WECHAT_SECRET=SECRET,
        QZT_WECHAT_API_BASE=fake.base,
        QZT_WECHAT_OAUTH_BASE=fake.base + "connect/",
        QZT_WECHAT_TEMPLATES=json.dumps({"approved": "TPL-APPROVED", "deadline-near": "TPL-DEADLINE"}),
    )
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
