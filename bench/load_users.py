"""The simulated users of bench/load.py, for locust (`locust -f bench/load_users.py --headless …`).

Read by locust in a process of its own (locust patches the standard library with gevent); bench/load.py
starts it and reads back what it leaves in the run's folder. QZT_LOAD_PLAN names a JSON file with the
accounts (one password for all), the listed institutions to visit and consult, the run's tag and where
to write. Every simulated user:

- has its own client address (X-Forwarded-For 10.<run>.x.y; gunicorn runs with QZT_PROXY_COUNT=1, as
  behind nginx), so the per-address limit on the login door (10 a minute) is each user's own;
- logs in once at start, with an account no other simulated user has, and now and then again;
- browses (home, directory, a category, an institution's homepage) and searches (the directory page with
  a common term, and the API);
- writes: an enterprise consults a listed institution (a unique marker in the question); an applicant
  institution saves wizard step 1 (a unique marker in the address) and now and then step 2 with a small
  PDF of its own (a unique SHA-256).

One request name per kind (browse:home, search:api, wizard:save, …): locust's statistics are by name.
Each write is recorded twice in writes-<pid>.jsonl: "sent" before the request, "acked" after a success
answer; bench/load.py then looks for every acknowledged one in the database. Status codes by request
name go to status-<pid>.json when the run stops. For the knee's steps (steady_seconds in the plan), the
statistics start again once every user's first login has been answered, and the run ends itself
steady_seconds later.
"""

import hashlib
import io
import itertools
import json
import os
import random
import re
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import gevent
import pikepdf
from locust import FastHttpUser, between, events

PLAN = json.loads(Path(os.environ["QZT_LOAD_PLAN"]).read_text())
OUT = Path(PLAN["out_dir"])
WAIT = between(*PLAN.get("wait", (1, 3)))

# Common searches on the directory (what enterprises type: a service, a certificate, a place).
TERMS = [
    "检测",
    "计量",
    "认证",
    "校准",
    "检验检测",
    "质量管理体系",
    "知识产权",
    "商标",
    "特种设备",
    "标准制定",
    "培训",
    "顺德",
    "佛山",
    "CMA",
    "ISO9001",
]
BASIC = {  # wizard step 1, valid (as tests/factories.py BASIC); the address carries the marker
    "name": "佛山市顺德区家电检测技术有限公司",
    "uscc": "91440604MA5X0001YJ",
    "legal_representative": "张三",
    "org_type": "professional",
    "district": "shunde",
    "address": "",
    "introduction": "专业从事家用电器安全、能效检验检测，具备CMA和CNAS资质，服务顺德家电产业二十年。",
    "phone": "0757-22223333",
}
TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')

_serial = itertools.count(1)
_addresses = itertools.count()
_accounts = {"enterprise": itertools.count(), "applicant": itertools.count()}
_status: Counter = Counter()
_writes = open(OUT / f"writes-{os.getpid()}.jsonl", "a", buffering=1)  # line-buffered, open for the run


def marker() -> str:
    """A text no other write of any run carries: the run's tag, this process, a serial."""
    return f"LT{PLAN['tag']}-{os.getpid()}-{next(_serial)}"


def unique_pdf(title: str) -> bytes:
    """A well-formed one-page PDF whose bytes no other upload has (its title is a marker)."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.docinfo["/Title"] = title
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def record(kind: str, phone: str, text: str, state: str, digest: str | None = None) -> None:
    line = {"kind": kind, "phone": phone, "marker": text, "sha256": digest, "state": state}
    _writes.write(json.dumps(line) + "\n")


@events.request.add_listener
def _count_status(name, response, exception, **_kwargs):
    _status[f"{name} {getattr(response, 'status_code', 0) or 0}"] += 1


_environment = None
_members = Counter()  # members started, and those whose first login has been answered


@events.init.add_listener
def _keep_environment(environment, **_kwargs):
    global _environment
    _environment = environment


@events.spawning_complete.add_listener
def _spawned(**_kwargs):
    if PLAN.get("steady_seconds"):
        gevent.spawn(_steady_state)


def _steady_state() -> None:
    """The knee's steps measure the steady state: once every user has started and its first login has
    been answered, the statistics start again; `steady_seconds` later the run ends. The file `steady`
    tells bench/load.py when the measured time began."""
    while _members["logged in"] < _members["started"]:
        gevent.sleep(0.2)
    _environment.runner.stats.reset_all()  # the status counts go on: a 5xx in the ramp counts too
    (OUT / "steady.part").write_text(str(time.time()))
    os.replace(OUT / "steady.part", OUT / "steady")  # whole, or not there yet
    gevent.sleep(PLAN["steady_seconds"])
    _environment.runner.quit()


@events.test_stop.add_listener
@events.quitting.add_listener
def _save_status(**_kwargs):
    (OUT / f"status-{os.getpid()}.json").write_text(json.dumps(dict(_status)))
    _writes.flush()


class Client(FastHttpUser):
    """What every simulated user has: a client address of its own, a CSRF token from the last page."""

    abstract = True
    wait_time = WAIT
    network_timeout = connection_timeout = 60.0

    def on_start(self) -> None:
        n = next(_addresses)
        self.headers = {"X-Forwarded-For": f"10.{PLAN['octet']}.{n // 250}.{n % 250 + 1}"}
        self.token: str | None = None

    def get(self, path: str, name: str):
        response = self.client.get(path, name=name, headers=self.headers)
        found = TOKEN.search(response.text or "") if response.status_code == 200 else None
        if found:
            self.token = found.group(1)
        return response


# Browsing and searching, as plain tasks: each class below takes them with weights of its own.
def home(user: Client) -> None:
    user.get("/", "browse:home")


def directory(user: Client) -> None:
    user.get(f"/directory?page={random.randint(1, 5)}", "browse:directory")


def category(user: Client) -> None:
    user.get(f"/directory?category={random.choice(PLAN['categories'])}", "browse:category")


def homepage(user: Client) -> None:
    institution_id, _item = random.choice(PLAN["institutions"])
    user.get(f"/institutions/{institution_id}", "browse:institution")


def search_page(user: Client) -> None:
    user.get(f"/directory?q={quote(random.choice(TERMS))}", "search:page")


def search_api(user: Client) -> None:
    user.client.get(
        f"/api/v1/institutions?q={quote(random.choice(TERMS))}", name="search:api", headers=user.headers
    )


BROWSE = {home: 6, directory: 4, category: 4, homepage: 6, search_page: 6, search_api: 4}


class Member(Client):
    """A user with an account no other simulated user has: logs in at start and, now and then, again."""

    abstract = True
    role = ""

    def on_start(self) -> None:
        super().on_start()
        accounts = PLAN["accounts"][self.role]
        self.phone = accounts[next(_accounts[self.role]) % len(accounts)]
        _members["started"] += 1
        try:
            log_in(self)
        finally:
            _members["logged in"] += 1  # answered, or failed: either way no longer to wait for

    def write(
        self, kind: str, path: str, expect: str, data: dict, text: str, upload: tuple | None = None
    ) -> None:
        """Post a form; the answer that counts as saved is a redirect (302) to `expect`, not to the
        login page (a session that has ended)."""
        digest = hashlib.sha256(upload[1]).hexdigest() if upload else None
        record(kind, self.phone, text, "sent", digest)
        files = {upload[0]: (f"{text}.pdf", upload[1], "application/pdf")} if upload else None
        with self.client.post(
            path,
            name=kind,
            data=data,
            files=files,
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302 and expect in (response.headers.get("Location") or ""):
                record(kind, self.phone, text, "acked", digest)
            else:
                response.failure(f"{kind}: {response.status_code} {response.headers.get('Location') or ''}")


def log_in(user: Member) -> None:
    user.get("/login", "login:form")
    data = {"phone": user.phone, "password": PLAN["password"], "csrf_token": user.token or ""}
    with user.client.post(
        "/login", name="login", data=data, headers=user.headers, allow_redirects=False, catch_response=True
    ) as response:
        if response.status_code != 302 or "/login" in (response.headers.get("Location") or ""):
            response.failure(f"login: {response.status_code}")
    user.token = None  # a new session: the next form page brings its token


def consult(user: Member) -> None:
    institution_id, item_id = random.choice(PLAN["institutions"])
    path = f"/institutions/{institution_id}/consult"
    user.get(path, "consult:form")
    text = marker()
    data = {"service_item": str(item_id), "body": f"请问检测周期和费用？{text}", "csrf_token": user.token}
    user.write("consult", path, "/consultations/", data, text)


def save_basic(user: Member) -> None:
    user.get("/onboarding/step/1", "wizard:form")
    text = marker()
    data = {**BASIC, "address": f"大良街道新城区1号 {text}", "action": "save", "csrf_token": user.token}
    user.write("wizard:save", "/onboarding/step/1", "/onboarding/step/1", data, text)


def upload_licence(user: Member) -> None:
    user.get("/onboarding/step/2", "wizard:form")
    text = marker()
    data = {"action": "save", "csrf_token": user.token}
    upload = ("licence", unique_pdf(text))
    user.write("wizard:upload", "/onboarding/step/2", "/onboarding/step/2", data, text, upload)


class Visitor(Client):
    """An anonymous visitor (the WeChat traffic): browses and searches, served from the page cache.
    Only in the run when bench/load.py is given --visitors."""

    weight = max(int(PLAN.get("visitor_weight", 0)), 1)
    tasks = BROWSE


class Enterprise(Member):
    """An enterprise (平台客户): browses, searches and consults listed institutions."""

    weight = 3
    role = "enterprise"
    tasks = {**BROWSE, log_in: 1, consult: 3}


class Applicant(Member):
    """An applicant institution: works on its onboarding wizard, browses a little."""

    weight = 1
    role = "applicant"
    tasks = {home: 2, directory: 1, homepage: 2, search_page: 2, log_in: 1, save_basic: 6, upload_licence: 2}
