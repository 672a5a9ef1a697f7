"""Running the site (issue 13.1 and 13.2): gunicorn as gunicorn.conf.py sets it up keeps answering while
clients trickle their requests; /healthz and /readyz; one log line per request, with a request id that
the response, error pages, the API's errors and the audit records carry; the sample nginx site and the
systemd units are valid. On the engine --db names."""

import http.client
import json
import logging
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from factories import PASSWORD, tamper_audit
from shared_fixtures import csrf

from qzt import create_app
from qzt.core import audit, health, requestlog
from qzt.extensions import db
from qzt.models import AuditRecord, Role
from qzt.rules import audit as rules

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
HEX_ID = re.compile(r"[0-9a-f]{32}")

# --- gunicorn with gunicorn.conf.py, on a real socket ---


@dataclass
class Served:
    port: int
    log: Path

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, float, http.client.HTTPResponse]:
        """(status, seconds, response) of one GET on a new connection, as a browser's first request."""
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        return response.status, time.monotonic() - started, response


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, tmp_path: Path, **settings: str):
    """`gunicorn -c gunicorn.conf.py app:app` as make run and qzt-web.service start it, on a free port
    (PORT, read by the config file), in its own process group, always stopped afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "QZT_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORT": str(port),
    }
    for name in ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY", "QZT_LOG_FORMAT", "QZT_CLOCK"):
        env.pop(name, None)
    env.update(settings)
    log = tmp_path / "gunicorn.log"
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "app:app"]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    served = Served(port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"gunicorn exited: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"gunicorn did not answer: {log.read_text()[-3000:]}"
            try:
                if served.get("/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)  # not listening yet, or its workers still booting
        yield served
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


class Tricklers:
    """Clients that send a request's head one line every `every` seconds and never finish it: what
    made the site unreachable under sync workers."""

    def __init__(self, port: int, count: int, every: float = 2.0):
        self.every = every
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        for sock in self.sockets:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        line = 0
        while not self.stop.wait(self.every):
            line += 1
            for sock in self.sockets:
                try:
                    sock.sendall(f"X-Trickle-{line}: x\r\n".encode())
                except OSError:
                    pass

    def still_held(self) -> int:
        """How many are still open and unanswered (the server neither replied nor closed them)."""
        readable, _, _ = select.select(self.sockets, [], [], 0)
        return len(self.sockets) - len(readable)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def test_six_trickling_clients_do_not_delay_other_requests(database_url, tmp_path):
    with gunicorn(database_url, tmp_path) as served:
        for _ in range(6):  # both workers have rendered the home page once: no first-time costs below
            assert served.get("/")[0] == 200
        tricklers = Tricklers(served.port, 6)
        try:
            time.sleep(2.5)  # each has sent its request line and at least one more header line
            timings = []
            for _ in range(10):
                status, seconds, _response = served.get("/healthz")
                timings.append(("/healthz", status, round(seconds, 3)))
                time.sleep(0.3)
            status, seconds, _response = served.get("/")
            timings.append(("/", status, round(seconds, 3)))
            held = tricklers.still_held()
        finally:
            tricklers.close()
    assert held == 6, "the trickling clients were let go early: the test would prove nothing"
    assert all(status == 200 for _path, status, _s in timings), timings
    assert max(seconds for _path, _status, seconds in timings) < 1.0, timings


def test_gunicorn_logs_each_request_once_with_its_id(database_url, tmp_path):
    with gunicorn(database_url, tmp_path) as served:
        _status, _s, response = served.get("/readyz?token=secret")
        rid = response.getheader("X-Request-ID")
        assert response.status == 200 and HEX_ID.fullmatch(rid)
    log = served.log.read_text()
    [line] = [line for line in log.splitlines() if f"request_id={rid}" in line]
    assert re.search(rf"INFO qzt\.requests GET /readyz 200 [\d.]+ms request_id={rid} ip=127\.0\.0\.1$", line)
    assert "GET /readyz?" not in log and "secret" not in log  # the path only, never the query
    assert '"GET /readyz' not in log  # gunicorn's own access log is off: one line a request


def test_with_the_json_format_every_line_gunicorn_writes_is_json(database_url, tmp_path):
    with gunicorn(database_url, tmp_path, QZT_LOG_FORMAT="json") as served:
        _status, _s, response = served.get("/no-such-page")
        rid = response.getheader("X-Request-ID")
    entries = [json.loads(line) for line in served.log.read_text().splitlines()]
    assert {"gunicorn.error", "qzt.requests"} <= {entry["logger"] for entry in entries}
    [line] = [entry for entry in entries if entry.get("request_id") == rid]
    assert (line["method"], line["path"], line["status"], line["ip"]) == (
        "GET",
        "/no-such-page",
        404,
        "127.0.0.1",
    )
    assert not [entry for entry in entries if entry["logger"] == "gunicorn.access"]


# --- /healthz and /readyz ---


def test_readyz_answers_ready_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "database": "ok", "migrations": "current"}
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/healthz").get_data(as_text=True) == "ok"


def test_readyz_is_503_while_the_database_is_a_migration_behind(app, client):
    heads, _known = health.code_migrations(app.extensions["migrate"].directory)
    flask_migrate.downgrade(revision="-1")
    try:
        response = client.get("/readyz")
        body = response.get_json()
        assert response.status_code == 503
        assert body["status"] == "unavailable" and body["database"] == "ok"
        assert body["migrations"].startswith("behind: database at ")
        assert f"code at {heads[0]}" in body["migrations"]
        assert client.get("/healthz").status_code == 200
    finally:
        db.session.remove()
        flask_migrate.upgrade()
    assert client.get("/readyz").status_code == 200


def _other_app(url: str, tmp_path: Path, **config):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp_path / "other"),
            "SECRET_KEY": "test-secret",
            **config,
        }
    )


def test_readyz_is_503_on_a_database_never_migrated(app, tmp_path):
    other = _other_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path)
    client = other.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "ok"
    assert response.get_json()["migrations"].startswith("not migrated: database at none, code at ")
    assert client.get("/healthz").status_code == 200
    with other.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    "url",
    ["sqlite:////nonexistent-qzt-dir/qzt.sqlite3", "postgresql+psycopg://qzt@127.0.0.1:1/qzt"],
    ids=["sqlite", "postgresql"],
)
def test_readyz_is_503_when_the_database_does_not_answer(app, tmp_path, url, caplog):
    other = _other_app(url, tmp_path)
    client = other.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "error: OperationalError",
        "migrations": "unknown",
    }
    assert "readyz: the database does not answer" in caplog.text
    assert client.get("/healthz").get_data(as_text=True) == "ok"


def test_probes_are_open_to_anyone_and_never_cached(client, login_as):
    staff = login_as(Role.OPERATOR)
    for who in (client, staff):
        assert who.get("/healthz").status_code == 200
        response = who.get("/readyz")
        assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]


# --- request ids ---


def test_a_sane_request_id_is_kept_and_echoed(client):
    for sent in ("abc", "req-2026.11_28", "A" * 64):
        response = client.get("/healthz", headers={"X-Request-ID": sent})
        assert response.headers["X-Request-ID"] == sent


def test_a_request_id_is_made_when_none_is_sent(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert HEX_ID.fullmatch(first) and HEX_ID.fullmatch(second) and first != second


@pytest.mark.parametrize(
    "hostile",
    ["A" * 65, "has space", "<script>alert(1)</script>", "../../etc/passwd", "编号", "a;b", "", "x\x7f"],
)
def test_a_hostile_request_id_is_replaced(client, hostile):
    response = client.get("/healthz", headers={"X-Request-ID": hostile})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_each_request_is_logged_once_with_its_id_and_without_its_query(client, caplog):
    caplog.set_level(logging.INFO, logger="qzt.requests")
    response = client.get("/directory?q=13800138000", headers={"X-Request-ID": "log-test-1"})
    assert response.status_code == 200
    [record] = [r for r in caplog.records if r.name == "qzt.requests"]
    assert (record.method, record.path, record.status, record.request_id) == (
        "GET",
        "/directory",
        200,
        "log-test-1",
    )
    assert record.duration_ms >= 0 and record.ip == "127.0.0.1"
    message = record.getMessage()
    assert re.fullmatch(r"GET /directory 200 [\d.]+ms request_id=log-test-1 ip=127\.0\.0\.1", message)
    assert "13800138000" not in caplog.text


def test_a_path_cannot_forge_a_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="qzt.requests")
    client.get("/x%0A2026-01-01 INFO qzt.requests GET /forged 200")
    [record] = [r for r in caplog.records if r.name == "qzt.requests"]
    assert "\n" not in record.getMessage() and "\\n" in record.getMessage()


def test_the_json_log_format_writes_one_object_per_line(database_url, tmp_path, capsys):
    other = _other_app(database_url, tmp_path, QZT_LOG_FORMAT="json")
    try:
        other.test_client().get("/nothing?phone=13800138000", headers={"X-Request-ID": "json-test-1"})
    finally:
        with other.app_context():
            db.engine.dispose()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    [entry] = [e for e in lines if e.get("request_id") == "json-test-1"]
    assert entry["logger"] == "qzt.requests" and entry["level"] == "INFO"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/nothing", 404)
    assert entry["ip"] == "127.0.0.1" and isinstance(entry["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])
    assert "13800138000" not in json.dumps(lines)
    # The next app (the default format) writes text again.
    _other_app(database_url, tmp_path)
    assert isinstance(requestlog.handler.formatter, requestlog.TextFormatter)


def test_an_unknown_log_format_is_refused_at_start_up(tmp_path):
    with pytest.raises(ValueError, match="QZT_LOG_FORMAT='xml': expected text or json"):
        _other_app("sqlite://", tmp_path, QZT_LOG_FORMAT="xml")


def test_the_error_page_shows_the_request_id(client):
    response = client.get("/no-such-page", headers={"X-Request-ID": "page-err-7"})
    assert response.status_code == 404
    assert "请求编号：<code>page-err-7</code>" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path, status",
    [("/api/v1/nothing", 404), ("/api/v1/institutions/999", 404), ("/api/v1/institutions?page=x", 400)],
)
def test_api_errors_carry_the_request_id(client, path, status):
    response = client.get(path, headers={"X-Request-ID": "api-err-1"})
    assert response.status_code == status
    assert response.get_json()["request_id"] == "api-err-1"


# --- the request id in the audit trail ---

AUDIT_FIELDS = {
    "id": 7,
    "at": None,
    "actor_id": 3,
    "ip": "10.0.0.8",
    "action": "approve",
    "object_type": "applications",
    "object_id": 12,
    "before": None,
    "after": {"state": "approved"},
    "note": "",
}


def test_a_record_without_a_request_id_hashes_as_before_it_existed():
    assert rules.canonical(AUDIT_FIELDS | {"request_id": None}, rules.GENESIS) == rules.canonical(
        AUDIT_FIELDS, rules.GENESIS
    )
    assert b"request_id" not in rules.canonical(AUDIT_FIELDS, rules.GENESIS)


def test_a_request_id_is_covered_by_the_hash():
    with_id = AUDIT_FIELDS | {"request_id": "abc"}
    assert json.loads(rules.canonical(with_id, rules.GENESIS))["request_id"] == "abc"
    assert rules.record_hash(with_id, rules.GENESIS) != rules.record_hash(AUDIT_FIELDS, rules.GENESIS)
    assert rules.record_hash(with_id, rules.GENESIS) != rules.record_hash(
        AUDIT_FIELDS | {"request_id": "abd"}, rules.GENESIS
    )


def test_audit_records_carry_the_request_id_under_the_hash(app, client, make_user):
    user = make_user(Role.ENTERPRISE, phone="13700000004")
    audit.record(user, "outside_a_request", user)  # a command's record: no request, no id
    db.session.commit()
    response = client.post(
        "/login",
        data={"phone": "13700000004", "password": PASSWORD, "csrf_token": csrf(client)},
        headers={"X-Request-ID": "login-req-1"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    old_style, login = db.session.scalars(sa.select(AuditRecord).order_by(AuditRecord.id)).all()
    assert old_style.request_id is None and login.action == "login"
    assert login.request_id == "login-req-1" == response.headers["X-Request-ID"]
    assert old_style.hash == rules.record_hash({n: getattr(old_style, n) for n in rules.FIELDS}, "0" * 64)
    assert audit.verify().intact and audit.verify().checked == 2

    tamper_audit("UPDATE audit_records SET request_id = 'someone-else' WHERE id = :id", id=login.id)
    verdict = audit.verify()
    assert verdict.broken_id == login.id and verdict.problem.startswith("内容被改动")
    tamper_audit("UPDATE audit_records SET request_id = NULL WHERE id = :id", id=login.id)
    assert audit.verify().broken_id == login.id  # taking it away is a change too


# --- the sample deployment ---

DEPLOY = ROOT / "deploy"


def test_the_nginx_site_is_valid(tmp_path):
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if not nginx or not openssl:
        pytest.skip("nginx or openssl is not installed: `nginx -t` cannot check deploy/nginx/qzt.conf")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=qzt.example.cn"]
        + ["-days", "1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx" / "qzt.conf").read_text()
    site = site.replace("/etc/ssl/qzt/fullchain.pem", str(cert)).replace("/etc/ssl/qzt/privkey.pem", str(key))
    site = site.replace("/srv/qzt", str(ROOT)).replace("/var/log/nginx", str(tmp_path))
    (tmp_path / "site.conf").write_text(site)
    temp = "\n".join(
        f"    {kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp}\n    include {tmp_path / 'site.conf'};\n}}\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_nginx_site_takes_what_the_app_takes_and_buffers_it(app):
    site = (DEPLOY / "nginx" / "qzt.conf").read_text()
    body_mb = int(re.search(r"client_max_body_size (\d+)m;", site)[1])
    assert body_mb * 1024 * 1024 > app.config["MAX_CONTENT_LENGTH"]
    for directive in (
        "proxy_request_buffering on;",
        "proxy_buffering on;",
        "proxy_set_header X-Request-ID $request_id;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "alias /srv/qzt/static/;",
        "return 301 https://$host$request_uri;",
        "client_header_timeout 10s;",
    ):
        assert directive in site, directive
    assert "Environment=QZT_PROXY_COUNT=1" in (DEPLOY / "systemd" / "qzt-web.service").read_text()


def test_the_systemd_units_are_valid(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed: the units in deploy/systemd cannot be checked")
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("qzt-*.*")):
        # Where the checkout is here, so that systemd finds the programs the units start.
        (tmp_path / unit.name).write_text(unit.read_text().replace("/srv/qzt", str(ROOT)))
        units.append(str(tmp_path / unit.name))
    assert {Path(u).name for u in units} >= {
        "qzt-web.service",
        "qzt-tick.service",
        "qzt-tick.timer",
        "qzt-worker.service",
    }
    result = subprocess.run([analyze, "verify", *units], capture_output=True, text=True)  # noqa: S603
    problems = [line for line in result.stderr.splitlines() if "qzt-" in line]
    assert result.returncode == 0 and not problems, result.stderr
