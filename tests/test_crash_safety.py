"""Crash safety (issue 13.4): the real server (gunicorn, two workers) is killed with SIGKILL in the middle
of a burst of wizard saves, uploads and consultations. Afterwards every request that was answered
"saved" is in the database and its upload on storage, byte for byte, and the site starts again by
itself: the same command, no manual step. On the engine --db names."""

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from burst import marker, query, sha256, stored_path, unique_pdf
from factories import BASIC, PASSWORD
from servers import Server, app_env

from qzt.extensions import db
from qzt.models import Role

ROOT = Path(__file__).resolve().parent.parent
APPLICANTS = ("13600000011", "13600000012")
ENTERPRISES = ("13700000011", "13700000012")
KILL_AFTER = 40  # answered writes before the kill (3 at least of each writer's); the burst goes on
TIMEOUT = 10


@dataclass
class Writer:
    """One user's session on the live server and what it was told."""

    server: Server
    phone: str
    session: requests.Session = field(default_factory=requests.Session)
    acked: list[tuple[str, str, str | None]] = field(default_factory=list)  # (kind, marker, sha256)
    in_flight: tuple[str, str, str | None] | None = None
    error: str | None = None

    def token(self, path: str) -> str:
        html = self.session.get(self.server.url + path, timeout=TIMEOUT).text
        match = re.search(r'name="csrf-token" content="([^"]+)"', html)
        assert match, f"no csrf-token on {path}"
        return match.group(1)

    def log_in(self) -> None:
        data = {"phone": self.phone, "password": PASSWORD, "csrf_token": self.token("/login")}
        response = self.session.post(
            self.server.url + "/login", data=data, allow_redirects=False, timeout=TIMEOUT
        )
        assert response.status_code == 302, f"{self.phone} could not log in: {response.status_code}"

    def post(self, kind: str, text: str, path: str, data: dict, upload: bytes | None, name: str) -> bool:
        """Post a form; True when the answer was a success (a redirect). What an answer acknowledged is
        recorded; what was on its way when the connection broke is kept as in_flight."""
        self.in_flight = (kind, text, sha256(upload) if upload else None)
        files = {name: ("file.pdf", upload, "application/pdf")} if upload else None
        response = self.session.post(
            self.server.url + path, data=data, files=files, allow_redirects=False, timeout=TIMEOUT
        )
        if response.status_code not in (200, 302):
            self.error = f"{kind}: {response.status_code}"
            return False
        self.acked.append(self.in_flight)
        self.in_flight = None
        return True

    def run(self, burst, *args) -> None:
        """A thread's body: the burst until it is stopped, or the server is killed under it."""
        try:
            burst(self, *args)
        except requests.RequestException:
            pass  # the connection broke: the kill
        except Exception as error:  # the test reports it
            self.error = repr(error)


def wizard_burst(writer: Writer, stop: threading.Event) -> None:
    """Save step 1 (a marker in the address) and step 2 (a new licence PDF) in turn."""
    token = writer.token("/onboarding/step/1")
    turn = itertools.count()

    def step() -> bool:
        if next(turn) % 2 == 0:
            text = marker("address")
            data = {**BASIC, "address": f"大良街道新城区1号 {text}", "action": "save", "csrf_token": token}
            return writer.post("basic", text, "/onboarding/step/1", data, None, "")
        text = marker("licence")
        data = {"action": "save", "csrf_token": token}
        return writer.post("licence", text, "/onboarding/step/2", data, unique_pdf(text), "licence")

    while not stop.is_set() and step():
        pass


def consultation_burst(writer: Writer, stop: threading.Event, institution: tuple[int, int]) -> None:
    """Ask question after question, every other one with an attachment."""
    institution_id, item_id = institution
    path = f"/institutions/{institution_id}/consult"
    token = writer.token(path)
    turn = itertools.count()

    def step() -> bool:
        text = marker("consult")
        data = {"service_item": str(item_id), "body": _body(text), "csrf_token": token}
        upload = unique_pdf(text) if next(turn) % 2 else None
        return writer.post("consult", text, path, data, upload, "attachment")

    while not stop.is_set() and step():
        pass


@pytest.fixture
def live(app, database_url, make_institution, make_user, tmp_path):
    """Users and a listed institution in the test database, and the server to run on it."""
    made = make_institution()
    institution = (made.id, made.services[0].id)
    for phone in APPLICANTS:
        make_user(Role.INSTITUTION, phone, "机构经办人")
    for phone in ENTERPRISES:
        make_user(Role.ENTERPRISE, phone, "企业用户")
    db.session.remove()
    db.engine.dispose()  # the server alone on the database
    instance = tmp_path / "live-instance"
    server = Server(app_env(database_url, instance, QZT_PAGE_CACHE="0"), tmp_path / "gunicorn.log")
    try:
        yield server, institution, instance / "uploads"
    finally:
        server.kill()


def test_every_answered_write_survives_a_sigkill_mid_burst(live, database_url):
    server, institution, upload_root = live
    first_start = server.start()
    writers = [Writer(server, phone) for phone in APPLICANTS + ENTERPRISES]
    for writer in writers:
        writer.log_in()
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(wizard_burst, stop)) for w in writers[:2]]
    threads += [
        threading.Thread(target=w.run, args=(consultation_burst, stop, institution)) for w in writers[2:]
    ]
    for thread in threads:
        thread.start()
    burst_started = time.monotonic()
    deadline = burst_started + 20
    while time.monotonic() < deadline and (
        sum(len(w.acked) for w in writers) < KILL_AFTER or min(len(w.acked) for w in writers) < 3
    ):
        assert not any(w.error for w in writers), [w.error for w in writers]
        time.sleep(0.005)
    server.kill()  # mid-burst: the writers' next (or current) requests find no server
    burst = time.monotonic() - burst_started
    stop.set()
    for thread in threads:
        thread.join(timeout=TIMEOUT + 5)
    assert not any(w.error for w in writers), [w.error for w in writers]
    acked = [a for w in writers for a in w.acked]
    in_flight = [w.in_flight for w in writers if w.in_flight]
    assert len(acked) >= KILL_AFTER

    restart = server.start()  # the same command; nothing repaired by hand
    print(
        f"\nstart {first_start:.1f} s; {len(acked)} writes answered in {burst:.1f} s, "
        f"{len(in_flight)} cut off by the kill; "
        f"restart {restart:.1f} s"
    )

    # Every answered consultation is there, and so is every answered upload, byte for byte.
    bodies = {row[0] for row in query(database_url, "SELECT body FROM consultation_messages")}
    for kind, text, _digest in acked:
        if kind == "consult":
            assert _body(text) in bodies, text
    files = dict(query(database_url, "SELECT sha256, key FROM stored_files"))
    for _kind, text, digest in acked:
        if digest:
            assert digest in files, f"the answered upload of {text} has no row"
            assert sha256(stored_path(upload_root, files[digest]).read_bytes()) == digest, text
    # No row points at bytes that are not there (an unanswered write is all there or not at all).
    for digest, key in files.items():
        assert sha256(stored_path(upload_root, key).read_bytes()) == digest, key

    # Each applicant's draft holds its last answered save of each step, or the one the kill cut off.
    for writer in writers[:2]:
        ((data,),) = query(
            database_url,
            "SELECT a.data FROM applications a JOIN users u ON u.id = a.applicant_id WHERE u.phone = :p",
            p=writer.phone,
        )
        data = json.loads(data) if isinstance(data, str) else data
        address = _latest(writer, "basic")
        assert any(text in data["basic"]["address"] for _k, text, _d in address), (address, data["basic"])
        licence = _latest(writer, "licence")
        ((digest,),) = query(
            database_url, "SELECT sha256 FROM stored_files WHERE id = :i", i=data["licence_file_id"]
        )
        assert digest in {d for _k, _t, d in licence}

    # The restarted site takes new writes at once, on the sessions it had before the kill.
    writer, text = writers[2], marker("after-restart")
    path = f"/institutions/{institution[0]}/consult"
    data = {"service_item": str(institution[1]), "body": _body(text), "csrf_token": writer.token(path)}
    assert writer.post("consult", text, path, data, None, "")
    count = "SELECT count(*) FROM consultation_messages WHERE body = :b"
    assert query(database_url, count, b=_body(text)) == [(1,)]


def _body(text: str) -> str:
    return f"请问检测周期？{text}"


def _latest(writer: Writer, kind: str) -> list[tuple]:
    """The writes of that kind the draft may show: the last answered, and the one cut off by the kill."""
    answered = [a for a in writer.acked if a[0] == kind]
    cut_off = [writer.in_flight] if writer.in_flight and writer.in_flight[0] == kind else []
    assert answered, f"{writer.phone}: no {kind} save was answered before the kill"
    return answered[-1:] + cut_off
