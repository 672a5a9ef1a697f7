"""Load test with locust: the site as it is served (gunicorn.conf.py), many simulated users at once.

For each engine (SQLite in a scratch folder, PostgreSQL as a throw-away server like the tests' one):
a fresh database (`db upgrade`, `qzt demo` with its history: a platform in use), accounts for the
simulated users (enterprises and applicant institutions, one password), and gunicorn with the project's
gunicorn.conf.py on a free loopback port, the page cache on, QZT_PROXY_COUNT=1 (each simulated user
sends its own X-Forwarded-For, as nginx would; the login door's limit is per address). Then:

1. The mix (bench/load_users.py): --users simulated users (default 50) for --duration seconds (120),
   browsing, searching, logging in, saving wizard steps and uploads, consulting. Reported: requests,
   req/s, p50/p95/p99 per kind; status codes (5xx expected: none); every write that was answered as
   saved looked up in the database afterwards (lost writes expected: none); CPU of gunicorn, of the
   database server and of locust; the time inside the app (its own request log) beside the time at the
   client, and /healthz probed from this process beside the load (what waiting in gunicorn costs).
2. The knee (--knee, on by default): 50, 100, 150, 200, 300… users (the ramp at --spawn-rate a second,
   each logging in), then --knee-duration seconds measured once every user's first login has been
   answered, until p95 over all requests passes 1 s; the steps' figures, and a reading of what limits.
   5xx and lost writes count over the whole step, ramp included.

Locust runs as a subprocess (it patches the standard library with gevent); this process only sets up,
samples CPU (psutil) and reads back what locust leaves. The report is printed as Markdown and written
to bench/out/ (not committed). Exit status 1 on a 5xx in the mix or a write lost in any run.

Usage: .venv/bin/python bench/load.py [--engines sqlite,postgresql] [--users 50] [--duration 120]
       [--knee/--no-knee] [--quick]          (needs the bench extra: pip install -e '.[test,bench]')
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psutil
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
USERS_FILE = Path(__file__).with_name("load_users.py")
OUT = ROOT / "bench" / "out"
PASSWORD = "load-test-9"  # every simulated user's
ENTERPRISE_PHONES = 13700010000  # 13700010000, 13700010001, …
APPLICANT_PHONES = 13600010000
KNEE_MS = 1000  # the knee: p95 of all requests past 1 s
SETTLE_MAX = 180  # seconds a knee step may take for its users' first logins after the ramp
# The kinds in the order the tables show them (load_users.py names its requests so).
KINDS = [
    "browse:home",
    "browse:directory",
    "browse:category",
    "browse:institution",
    "search:page",
    "search:api",
    "login:form",
    "login",
    "consult:form",
    "consult",
    "wizard:form",
    "wizard:save",
    "wizard:upload",
]
WRITES = ("consult", "wizard:save", "wizard:upload")
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


# --- set-up ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(plan_path: Path, accounts: int) -> None:
    """In the app's context (run as a subprocess with the server's environment): `accounts` enterprise
    and `accounts` applicant accounts with one password hash (scrypt is slow by design: hashed once), and
    the plan the simulated users read."""
    sys.path.insert(0, str(ROOT))
    from app import app
    from qzt.data.catalog import CATEGORIES
    from qzt.directory.search import Filters, search
    from qzt.extensions import db
    from qzt.models import Enterprise, Role, User

    with app.app_context():
        model = User(phone="0", name="", role=Role.ENTERPRISE)
        model.set_password(PASSWORD)
        enterprises = [str(ENTERPRISE_PHONES + i) for i in range(accounts)]
        applicants = [str(APPLICANT_PHONES + i) for i in range(accounts)]
        users = [
            User(
                phone=p, name=f"压测企业{i}有限公司", role=Role.ENTERPRISE, password_hash=model.password_hash
            )
            for i, p in enumerate(enterprises)
        ]
        users += [
            User(phone=p, name=f"压测机构经办人{i}", role=Role.INSTITUTION, password_hash=model.password_hash)
            for i, p in enumerate(applicants)
        ]
        db.session.add_all(users)
        db.session.flush()
        db.session.add_all(Enterprise(user_id=u.id, name=u.name) for u in users if u.role == Role.ENTERPRISE)
        db.session.commit()
        listed = search(Filters(), 1, 100).items  # what the directory shows first
        institutions = [[inst.id, inst.services[0].id] for inst in listed if inst.services]
    plan = {
        "password": PASSWORD,
        "accounts": {"enterprise": enterprises, "applicant": applicants},
        "institutions": institutions,
        "categories": [c.slug for c in CATEGORIES],
    }
    plan_path.write_text(json.dumps(plan))


@dataclass
class Site:
    """One engine's database, instance folder and gunicorn."""

    engine: str
    scratch: Path
    url: str
    env: dict
    port: int
    plan: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None
    pg_data: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.scratch / "gunicorn.log"

    def prepare(self, institutions: int, accounts: int) -> float:
        started = time.perf_counter()
        flask = [str(BIN / "flask"), "--app", "app"]
        for command in (["db", "upgrade"], ["qzt", "demo", "--count", str(institutions)]):
            done = subprocess.run([*flask, *command], cwd=ROOT, env=self.env, capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
        plan_path = self.scratch / "plan.json"
        seeding = [sys.executable, __file__, "--seed", str(plan_path), "--accounts", str(accounts)]
        subprocess.run(seeding, cwd=ROOT, env=self.env, check=True)
        self.plan = json.loads(plan_path.read_text())
        return time.perf_counter() - started

    def start(self) -> None:
        command = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "app:app"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                if urllib.request.urlopen(self.base + "/healthz", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not answer /healthz:\n{self.log.read_text()[-3000:]}")
        for path in ("/", "/directory", "/directory?q=%E6%A3%80%E6%B5%8B", "/api/v1/institutions"):
            for _ in range(4):  # each worker imports its templates and fills its page cache
                urllib.request.urlopen(self.base + path, timeout=30).read()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def database_pids(self) -> list[int]:
        """The PostgreSQL server (postmaster), whose children serve the connections; none for SQLite."""
        if self.pg_data is None:
            return []
        try:
            return [int((self.pg_data / "postmaster.pid").read_text().split()[0])]
        except (OSError, ValueError, IndexError):
            return []


def open_site(engine: str, scratch: Path) -> tuple[Site, object | None]:
    """The engine's empty database and the environment gunicorn and the CLI run with."""
    server = None
    if engine == "sqlite":
        url = f"sqlite:///{scratch / 'qzt.sqlite3'}"
    else:
        sys.path.insert(0, str(ROOT / "tests"))
        import pg

        server = pg.start_server()
        url = server.create_database("qzt_load")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QZT_", "GUNICORN", "WEB_CONCURRENCY"))}
    env |= {
        "DATABASE_URL": url,
        "SECRET_KEY": "load-test-secret",
        "QZT_INSTANCE_PATH": str(scratch / "instance"),
        "QZT_PROXY_COUNT": "1",
        "QZT_LOG_FORMAT": "json",  # bench/load.py reads the request lines back: time inside the app
        "PORT": str(port),
    }
    site = Site(engine, scratch, url, env, port, pg_data=server.data if server else None)
    return site, server


# --- CPU ------------------------------------------------------------------------------------------


class CpuSampler:
    """CPU seconds of process groups (a process and its children), sampled every second while
    `counting`: gunicorn (master and workers, and each worker), the database server, locust; and the
    whole machine. A process that ends between two samples loses its last second at most."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups
        self.seen: dict[int, float] = {}
        self.used: Counter = Counter()
        self.workers: Counter = Counter()  # gunicorn's workers, by pid
        self.wall = 0.0
        self.counting = False
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> tuple[Counter, Counter]:
        deltas: Counter = Counter()
        workers: Counter = Counter()
        for name, pids in self.groups.items():
            for pid in pids:
                try:
                    top = psutil.Process(pid)
                    processes = [top, *top.children(recursive=True)]
                except psutil.Error:
                    continue
                for process in processes:
                    try:
                        times = process.cpu_times()
                    except psutil.Error:
                        continue
                    total = times.user + times.system
                    delta = max(total - self.seen.get(process.pid, total), 0.0)
                    self.seen[process.pid] = total
                    deltas[name] += delta
                    if name == "gunicorn" and process.pid != pid:
                        workers[process.pid] += delta
        machine = psutil.cpu_times()
        idle = ("idle", "iowait", "guest", "guest_nice")  # guest time is counted in user already
        busy = sum(machine) - sum(getattr(machine, f, 0.0) for f in idle)
        deltas["machine"] = max(busy - self.seen.get(-1, busy), 0.0)
        self.seen[-1] = busy
        return deltas, workers

    def _run(self) -> None:
        last = time.monotonic()
        self._sample()  # the baseline of every process
        while not self.stopped.wait(1.0):
            deltas, workers = self._sample()
            now = time.monotonic()
            if self.counting:
                self.used.update(deltas)
                self.workers.update(workers)
                self.wall += now - last
            last = now

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.stopped.set()
        self.thread.join()

    def percent(self, name: str) -> float | None:
        """Average use over the counted time, in % of one core (the machine's total: cores × 100 %)."""
        if not self.wall or (name not in self.used and name != "machine" and not self.groups.get(name)):
            return None
        return 100 * self.used[name] / self.wall

    def worker_percents(self) -> list[float]:
        """Each gunicorn worker's average use, busiest first, in % of one core."""
        return sorted((100 * v / self.wall for v in self.workers.values()), reverse=True) if self.wall else []


class HealthProbe:
    """/healthz (no database, nothing to do) twice a second from a thread of this process, not from
    locust: its latency is the time a request waits in gunicorn before the app runs, whatever the app."""

    def __init__(self, base: str):
        self.url = base + "/healthz"
        self.times: list[float] = []
        self.counting = False
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(0.5):
            started = time.perf_counter()
            try:
                urllib.request.urlopen(self.url, timeout=30).read()
            except OSError:
                continue
            if self.counting:
                self.times.append((time.perf_counter() - started) * 1000)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.stopped.set()
        self.thread.join()

    def summary(self) -> dict:
        times = sorted(self.times)

        def percentile(share: float) -> float | None:
            return times[min(int(share * len(times)), len(times) - 1)] if times else None

        return {"requests": len(times), "p50": percentile(0.5), "p95": percentile(0.95), "max": percentile(1)}


# --- one run of locust ----------------------------------------------------------------------------


@dataclass
class Run:
    users: int
    seconds: int
    stats: dict[str, dict]  # kind (and "all") -> requests, failures, rps, p50, p95, p99
    statuses: Counter  # "kind status" -> count, over the whole run (a knee step's ramp too)
    writes: dict
    cpu: dict[str, float | None]
    workers: list[float]  # each gunicorn worker's CPU, % of one core
    app: dict  # time inside the app (its request log): requests, p50, p95, p99
    probe: dict  # /healthz from outside locust: requests, p50, p95, max
    settled: bool  # a knee step: every user had logged in before the measured time began
    log_problems: Counter

    @property
    def total(self) -> dict:
        return self.stats["all"]

    def server_errors(self, kind: str | None = None) -> int:
        return sum(
            n
            for key, n in self.statuses.items()
            if key.rsplit(" ", 1)[1].startswith("5") and (kind is None or key.rsplit(" ", 1)[0] == kind)
        )

    def slowest(self, count: int = 3) -> list[tuple[str, float]]:
        kinds = [(k, s["p95"]) for k, s in self.stats.items() if k != "all" and s["p95"] is not None]
        return sorted(kinds, key=lambda x: -x[1])[:count]


_runs = iter(range(1, 250))  # each run its own client addresses (10.<run>.x.y) and markers


def run_locust(site: Site, users: int, seconds: int, args, steady_only: bool) -> Run:
    """Locust headless against the site; with steady_only, the statistics of the time after every user
    has started (and logged in) only, for `seconds`; else of the whole run, ramp included."""
    index = next(_runs)
    tag = f"{site.engine[0]}{index}"
    folder = site.scratch / f"run-{tag}-{users}u"
    folder.mkdir()
    ramp = users / args.spawn_rate
    plan = {
        **site.plan,
        "out_dir": str(folder),
        "tag": tag,
        "octet": index,
        "wait": args.wait,
        "visitor_weight": args.visitors,
        "steady_seconds": seconds if steady_only else None,
    }
    (folder / "plan.json").write_text(json.dumps(plan))
    classes = ["Enterprise", "Applicant"] + (["Visitor"] if args.visitors else [])
    # A step ends by itself `seconds` after every user has logged in (load_users.py); -t is the cap.
    total_seconds = int(ramp) + seconds + SETTLE_MAX if steady_only else seconds
    command = [
        str(BIN / "locust"),
        "-f",
        str(USERS_FILE),
        "--headless",
        "--only-summary",
        "-u",
        str(users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{total_seconds}s",
        "--stop-timeout",
        "30",  # users finish the task they are in: no write is cut off by the end of the run
        "--host",
        site.base,
        "--csv",
        str(folder / "locust"),
        "--json-file",
        str(folder / "locust"),
        "--loglevel",
        "WARNING",
        *classes,
    ]
    log_offset = site.log.stat().st_size
    env = {**os.environ, "QZT_LOAD_PLAN": str(folder / "plan.json")}
    with open(folder / "locust.log", "wb") as log:
        locust = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        groups = {"gunicorn": [site.process.pid], "database": site.database_pids(), "locust": [locust.pid]}
        with CpuSampler(groups) as cpu, HealthProbe(site.base) as probe:
            steady = folder / "steady"
            while steady_only and locust.poll() is None and not steady.exists():
                time.sleep(0.1)
            settled = not steady_only or steady.exists()
            since = float(steady.read_text()) if steady_only and settled else time.time()
            cpu.counting = probe.counting = True
            try:
                locust.wait(timeout=total_seconds + 120)
            except subprocess.TimeoutExpired:
                locust.terminate()
                locust.wait()
    stats_file = folder / "locust.json"
    if not stats_file.exists():
        raise RuntimeError(f"locust wrote no statistics:\n{(folder / 'locust.log').read_text()[-3000:]}")
    statuses: Counter = Counter()
    for path in folder.glob("status-*.json"):
        statuses.update(json.loads(path.read_text()))
    with open(site.log, "rb") as log:
        log.seek(log_offset)
        app, problems = read_server_log(log.read().decode("utf-8", "replace"), since)
    return Run(
        users=users,
        seconds=seconds,
        stats=read_stats(stats_file),
        statuses=statuses,
        writes=verify_writes(site, folder),
        cpu={name: cpu.percent(name) for name in ("gunicorn", "database", "locust", "machine")},
        workers=cpu.worker_percents(),
        app=app,
        probe=probe.summary(),
        settled=settled,
        log_problems=problems,
    )


def read_server_log(text: str, since: float) -> tuple[dict, Counter]:
    """From gunicorn's log (QZT_LOG_FORMAT=json: one object a line): the time requests spent inside
    the app (from its request lines, those since `since`), and what went wrong (tracebacks, SQLite's
    "database is locked", worker timeouts)."""
    durations = []
    problems: Counter = Counter({"tracebacks": 0, "database is locked": 0, "worker timeouts": 0})
    for line in text.splitlines():
        problems["database is locked"] += "database is locked" in line
        problems["worker timeouts"] += "WORKER TIMEOUT" in line
        try:
            entry = json.loads(line)
        except ValueError:
            problems["tracebacks"] += line.startswith("Traceback")
            continue
        problems["tracebacks"] += "exception" in entry
        if entry.get("duration_ms") is not None and entry.get("path") != "/healthz":  # not the probe
            if datetime.fromisoformat(entry["time"]).timestamp() >= since:
                durations.append(float(entry["duration_ms"]))
    durations.sort()

    def percentile(share: float) -> float | None:
        return durations[min(int(share * len(durations)), len(durations) - 1)] if durations else None

    app = {
        "requests": len(durations),
        "p50": percentile(0.5),
        "p95": percentile(0.95),
        "p99": percentile(0.99),
    }
    return app, problems


def read_stats(path: Path) -> dict[str, dict]:
    """Requests, failures, req/s and p50/p95/p99 per kind and over all, from locust's --json-file (its
    statistics as they stand when it has stopped: the tasks that finished in the stop timeout too)."""
    entries = json.loads(path.read_text())
    if not entries:
        raise RuntimeError(f"locust made no request: see {path.parent / 'locust.log'}")
    started = min(e["start_time"] for e in entries)
    ended = max(e["last_request_timestamp"] or started for e in entries)
    seconds = max(ended - started, 1e-9)

    def summary(group: list[dict]) -> dict:
        times: Counter = Counter()
        for e in group:
            times.update({float(t): n for t, n in e["response_times"].items()})
        count = sum(times.values())

        def percentile(share: float) -> float | None:
            if not count:
                return None
            seen = 0
            for value in sorted(times):
                seen += times[value]
                if seen >= share * count:
                    return value
            return max(times)

        requests = sum(e["num_requests"] for e in group)
        return {
            "requests": requests,
            "failures": sum(e["num_failures"] for e in group),
            "rps": requests / seconds,
            "p50": percentile(0.50),
            "p95": percentile(0.95),
            "p99": percentile(0.99),
        }

    by_name: dict[str, list[dict]] = defaultdict(list)
    for e in entries:
        by_name[e["name"]].append(e)
    stats = {name: summary(group) for name, group in by_name.items()}
    stats["all"] = summary(entries)
    return stats


# --- lost writes ----------------------------------------------------------------------------------


def verify_writes(site: Site, folder: Path) -> dict:
    """Every write answered as saved, looked up in the database (SQLAlchemy Core, a connection of its
    own): each consultation's marker in a message; each upload's SHA-256 in stored_files and its bytes
    on storage; each applicant's draft holding its last answered step-1 save and step-2 upload (or one
    sent after it, answered or not: a draft keeps only its latest save)."""
    events = []
    for path in sorted(folder.glob("writes-*.jsonl")):
        events += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    acked = defaultdict(list)
    by_phone: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for event in events:
        by_phone[(event["kind"], event["phone"])].append(event)
        if event["state"] == "acked":
            acked[event["kind"]].append(event)
    tag = folder.name.split("-")[1]
    engine = sa.create_engine(site.url, poolclass=NullPool)
    try:
        with engine.connect() as db:
            bodies = db.scalars(
                sa.text("SELECT body FROM consultation_messages WHERE body LIKE :p"), {"p": f"%LT{tag}-%"}
            )
            found = {m for body in bodies for m in re.findall(rf"LT{tag}-\d+-\d+", body)}
            files = dict(db.execute(sa.text("SELECT sha256, key FROM stored_files")).all())
            file_ids = dict(db.execute(sa.text("SELECT id, sha256 FROM stored_files")).all())
            drafts = {
                phone: json.loads(data) if isinstance(data, str) else data
                for phone, data in db.execute(
                    sa.text(
                        "SELECT u.phone, a.data FROM applications a JOIN users u ON u.id = a.applicant_id"
                    )
                )
            }
    finally:
        engine.dispose()
    upload_root = site.scratch / "instance" / "uploads"
    consult_lost = [e["marker"] for e in acked["consult"] if e["marker"] not in found]
    upload_lost = [e["marker"] for e in acked["wizard:upload"] if e["sha256"] not in files]
    on_disk = sum(
        1 for e in acked["wizard:upload"] if e["sha256"] in files and stored(upload_root, files[e["sha256"]])
    )

    def latest_held(kind: str, held) -> tuple[int, list[str]]:
        """Drafts checked, and the phones whose draft holds neither its last answered save of `kind`
        nor one sent after it."""
        checked, wrong = 0, []
        for (event_kind, phone), sequence in by_phone.items():
            if event_kind != kind:
                continue
            answered = [i for i, e in enumerate(sequence) if e["state"] == "acked"]
            if not answered:
                continue
            allowed = {(e["marker"], e["sha256"]) for e in sequence[answered[-1] :]}
            checked += 1
            if not held(drafts.get(phone) or {}, allowed):
                wrong.append(phone)
        return checked, wrong

    def address_held(data, allowed) -> bool:
        address = (data.get("basic") or {}).get("address") or ""
        return any(m in address for m, _d in allowed)

    def licence_held(data, allowed) -> bool:
        return file_ids.get(data.get("licence_file_id")) in {d for _m, d in allowed}

    saves_checked, saves_wrong = latest_held("wizard:save", address_held)
    licences_checked, licences_wrong = latest_held("wizard:upload", licence_held)
    return {
        "answered": {kind: len(acked[kind]) for kind in WRITES},
        "consult_lost": consult_lost,
        "upload_lost": upload_lost,
        "upload_on_disk": on_disk,
        "drafts": (saves_checked, saves_wrong),
        "licences": (licences_checked, licences_wrong),
        "lost": len(consult_lost)
        + len(upload_lost)
        + (len(acked["wizard:upload"]) - len(upload_lost) - on_disk)
        + len(saves_wrong)
        + len(licences_wrong),
    }


def stored(upload_root: Path, key: str) -> bool:
    """Whether local storage holds the key (LocalStorage's layout: ab/cd/abcd…; else anywhere below)."""
    path = upload_root / key[:2] / key[2:4] / key
    return path.exists() or any(upload_root.rglob(key))


# --- the report -----------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def mix_table(run: Run) -> list[str]:
    lines = [
        "| kind | requests | req/s | p50 ms | p95 ms | p99 ms | failures | 5xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    kinds = [k for k in KINDS if k in run.stats] + sorted(
        k for k in run.stats if k not in KINDS and k != "all"
    )
    for kind in [*kinds, "all"]:
        s = run.stats[kind]
        label = "**all**" if kind == "all" else f"`{kind}`"
        errors = run.server_errors(None if kind == "all" else kind)
        lines.append(
            f"| {label} | {s['requests']} | {s['rps']:.1f} | {ms(s['p50'])} | {ms(s['p95'])} | "
            f"{ms(s['p99'])} | {s['failures']} | {errors} |"
        )
    return lines


def status_line(run: Run) -> str:
    codes: Counter = Counter()
    for key, n in run.statuses.items():
        codes[key.rsplit(" ", 1)[1]] += n
    shown = ", ".join(f"{code} × {n}" for code, n in sorted(codes.items()))
    problems = ", ".join(f"{k} {n}" for k, n in run.log_problems.items() if n)
    return (
        f"Status codes: {shown} (0: no answer). **5xx: {run.server_errors()}**. "
        f"Server log: {problems or 'no tracebacks, no lock errors, no worker timeouts'}."
    )


def writes_line(run: Run) -> str:
    w = run.writes
    answered = w["answered"]
    drafts, wrong = w["drafts"]
    licences, licences_wrong = w["licences"]
    return (
        f"Writes answered as saved, then looked up in the database: consultations "
        f"{answered['consult'] - len(w['consult_lost'])}/{answered['consult']} found; uploads "
        f"{answered['wizard:upload'] - len(w['upload_lost'])}/{answered['wizard:upload']} in stored_files "
        f"({w['upload_on_disk']} with their bytes on storage); wizard step-1 saves {answered['wizard:save']} "
        f"answered, {drafts - len(wrong)}/{drafts} drafts hold their last one, "
        f"{licences - len(licences_wrong)}/{licences} their last licence. **Lost writes: {w['lost']}**."
    )


def gunicorn_cpu(run: Run) -> str:
    """The workers' CPU in all, and each worker's: e.g. 151% (78 + 72)."""
    if run.cpu["gunicorn"] is None:
        return "–"
    each = " + ".join(f"{w:.0f}" for w in run.workers)
    return f"{run.cpu['gunicorn']:.0f}%" + (f" ({each})" if each else "")


def cpu_line(run: Run) -> str:
    c = run.cpu
    cores = psutil.cpu_count() or 1
    ours = sum(v or 0 for k, v in c.items() if k != "machine")
    other = None if c["machine"] is None else max(c["machine"] - ours, 0)
    app = run.app
    return (
        f"CPU, % of one core ({cores} cores: {cores * 100}% in all): gunicorn {gunicorn_cpu(run)}, "
        f"PostgreSQL {pct(c['database']) if c['database'] else '–'}, locust {pct(c['locust'])}, "
        f"anything else on the machine {pct(other)}; machine busy {pct(c['machine'])}. Time inside the app "
        f"(its request log, {app['requests']} requests): p50 {ms(app['p50'])} ms, p95 {ms(app['p95'])} ms, "
        f"p99 {ms(app['p99'])} ms. `/healthz` (does nothing) probed twice a second beside the load: "
        f"p50 {ms(run.probe['p50'])} ms, p95 {ms(run.probe['p95'])} ms, max {ms(run.probe['max'])} ms."
    )


def knee_table(runs: list[Run]) -> list[str]:
    lines = [
        "| users | req/s | p50 ms | p95 ms | p99 ms | p95 in the app | `/healthz` p95 | failures "
        "| 5xx (ramp too) | lost writes (ramp too) "
        "| slowest kinds (p95 ms) | gunicorn CPU (each worker) | PostgreSQL CPU | locust CPU "
        "| machine busy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for run in runs:
        t = run.total
        slowest = ", ".join(f"`{k}` {v:.0f}" for k, v in run.slowest())
        users = f"{run.users}" + ("" if run.settled else " (first logins unfinished)")
        lines.append(
            f"| {users} | {t['rps']:.1f} | {ms(t['p50'])} | {ms(t['p95'])} | {ms(t['p99'])} | "
            f"{ms(run.app['p95'])} | {ms(run.probe['p95'])} | {t['failures']} | {run.server_errors()} | "
            f"{run.writes['lost']} | "
            f"{slowest} | {gunicorn_cpu(run)} | {pct(run.cpu['database']) if run.cpu['database'] else '–'} | "
            f"{pct(run.cpu['locust'])} | {pct(run.cpu['machine'])} |"
        )
    return lines


def past_knee(run: Run) -> bool:
    """p95 over all requests past 1 s, or the users' first logins never all answered."""
    return (run.total["p95"] or 0) > KNEE_MS or not run.settled


def what_limits(engine: str, run: Run) -> str:
    """A reading of the figures measured at the knee: which resource ran out."""
    cores = psutil.cpu_count() or 1
    c = {k: v or 0.0 for k, v in run.cpu.items()}
    said = []
    if c["locust"] >= 85:
        said.append(
            f"locust itself is near one full core ({c['locust']:.0f}%): the load generator limits, the "
            "site may carry more"
        )
    busiest = run.workers[0] if run.workers else 0.0
    if c["machine"] >= 80 * cores or busiest >= 70:
        database = f", PostgreSQL {c['database']:.0f}%" if c["database"] else ""
        said.append(
            f"CPU: gunicorn's workers run at {gunicorn_cpu(run)} of a core{database}, the machine "
            f"{c['machine']:.0f}% busy of {cores * 100}% (Python runs one thread of a process at a time: a "
            "worker's ceiling is about one core, whatever its 16 threads)"
        )
    else:
        said.append(
            f"not CPU: the machine is {c['machine']:.0f}% busy of {cores * 100}%, the busiest worker at "
            f"{busiest:.0f}% of a core"
        )
    client, inside, probe = run.total["p95"] or 0, run.app["p95"] or 0, run.probe["p95"] or 0
    if client and inside < 0.7 * client:
        said.append(
            f"requests wait in gunicorn before the app's code runs (p95 {inside:.0f} ms inside the app, "
            f"{client:.0f} ms at the client; `/healthz`, which does nothing, p95 {probe:.0f} ms): accepting, "
            "reading and handing them to a thread, which in a busy worker wait for its one GIL"
        )
    elif client:
        said.append(f"the time goes inside the app (p95 {inside:.0f} ms of {client:.0f} ms at the client)")
    reads = sorted(run.stats[k]["p95"] for k in KINDS[:6] if k in run.stats and run.stats[k]["p95"])
    writes = {k: run.stats[k]["p95"] for k in WRITES if k in run.stats and run.stats[k]["p95"]}
    if reads and writes:
        read_p95 = reads[len(reads) // 2]
        slow_writes = {k: v for k, v in writes.items() if v > 2 * read_p95}
        if slow_writes:
            shown = ", ".join(f"`{k}` {v:.0f} ms" for k, v in slow_writes.items())
            cause = (
                "SQLite's one writer at a time (lock waits)" if engine == "sqlite" else "row locks, commits"
            )
            said.append(f"writes wait longer than reads ({shown} against {read_p95:.0f} ms): {cause}")
        else:
            said.append(
                f"writes no slower than reads (p95 of reads {read_p95:.0f} ms): no lock waits to speak of"
            )
    if run.log_problems["database is locked"]:
        said.append(f"SQLite gave up waiting for its lock {run.log_problems['database is locked']} times")
    login, home = run.stats.get("login"), run.stats.get("browse:home")
    if login and home and login["p50"] and home["p50"] and login["p50"] > 3 * home["p50"]:
        said.append(
            f"logging in is the slowest kind (p50 {login['p50']:.0f} ms against {home['p50']:.0f} ms for the "
            "home page): the scrypt password hash, about 0.1 s of CPU a login by design"
        )
    return "; ".join(said) + "."


def report(results: list[tuple[str, dict]], args, started: datetime) -> str:
    lines = [
        f"# Load test (bench/load.py), {started:%Y-%m-%d %H:%M}",
        "",
        f"Machine: {psutil.cpu_count()} cores, load average before the run {args.load_before:.2f}. "
        "Site: gunicorn.conf.py (2 gthread workers × 16 threads), page cache on, "
        f"`qzt demo --count {args.institutions}` with its history. Load: locust "
        f"{locust_version()} headless, one process, think time {args.wait[0]:g}–{args.wait[1]:g} s, "
        f"users enterprise 3 : applicant 1"
        + (f" : anonymous visitor {args.visitors}" if args.visitors else "")
        + ", each logged in with an account and an X-Forwarded-For address of its own.",
        "",
    ]
    for engine, result in results:
        name = ENGINE_NAMES[engine]
        mix: Run = result["mix"]
        lines += [
            f"## {name}: {mix.users} users, {mix.seconds} s (ramp and logins included)",
            "",
            f"Set-up: {result['setup']:.0f} s.",
            "",
            *mix_table(mix),
            "",
            status_line(mix),
            "",
            writes_line(mix),
            "",
            cpu_line(mix),
            "",
        ]
        steps: list[Run] = result.get("knee") or []
        if steps:
            knee = next((r for r in steps if past_knee(r)), None)
            lines += [
                f"### {name}: the knee ({args.knee_duration} s a step once all users have logged in; "
                f"until p95 > {KNEE_MS} ms)",
                "",
                *knee_table(steps),
                "",
            ]
            if knee is None:
                last = steps[-1]
                lines.append(
                    f"No knee up to {last.users} users (p95 {ms(last.total['p95'])} ms, machine "
                    f"{pct(last.cpu['machine'])} busy): more users with --knee-users."
                )
            else:
                before = steps[steps.index(knee) - 1] if steps.index(knee) else None
                where = (
                    f"between {before.users} and {knee.users} users" if before else f"at {knee.users} users"
                )
                lines.append(
                    f"**Knee {where}** (p95 {ms(knee.total['p95'])} ms, {knee.total['rps']:.0f} req/s). "
                    f"What limits: {what_limits(engine, knee)}"
                )
            lines.append("")
    return "\n".join(lines)


def locust_version() -> str:
    from importlib.metadata import version

    return version("locust")


# --- main -----------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--users", type=int, help="simulated users of the mix (default 50; --quick 20)")
    parser.add_argument("--duration", type=int, help="seconds of the mix (default 120; --quick 20)")
    parser.add_argument("--knee", action=argparse.BooleanOptionalAction, default=True, help="find the knee")
    parser.add_argument(
        "--knee-users",
        help="the steps, comma-separated (default 50,100,150,200,300,400,600,800; --quick 20,40)",
    )
    parser.add_argument(
        "--knee-duration", type=int, help="seconds a step, once all have logged in (45; --quick 15)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: short and small")
    parser.add_argument("--institutions", type=int, help="qzt demo --count (default 1000; --quick 200)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started a second (default 10)")
    parser.add_argument("--wait", default="1,3", help="think time between tasks, min,max seconds (1,3)")
    parser.add_argument("--visitors", type=int, default=0, help="weight of anonymous visitors (0: none)")
    parser.add_argument("--output", type=Path, help="the Markdown report (default bench/out/load-<time>.md)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders (logs, CSV)")
    parser.add_argument("--seed", type=Path, help=argparse.SUPPRESS)  # internal: set-up in the app context
    parser.add_argument("--accounts", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    quick = args.quick
    args.users = args.users or (20 if quick else 50)
    args.duration = args.duration or (20 if quick else 120)
    args.knee_duration = args.knee_duration or (15 if quick else 45)
    args.institutions = args.institutions or (200 if quick else 1000)
    steps = args.knee_users or ("20,40" if quick else "50,100,150,200,300,400,600,800")
    args.knee_users = [int(x) for x in steps.split(",")]
    args.wait = tuple(float(x) for x in args.wait.split(","))
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for engine in args.engines:
        if engine not in ENGINE_NAMES:
            parser.error(f"unknown engine {engine!r}: sqlite or postgresql")
    return args


def bench_engine(engine: str, args) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix=f"qzt-load-{engine}-"))
    site, server = open_site(engine, scratch)
    result: dict = {}
    try:
        accounts = max(args.users, *(args.knee_users if args.knee else [0]))
        print(f"[{engine}] set-up: demo {args.institutions} institutions, {accounts} + {accounts} accounts")
        result["setup"] = site.prepare(args.institutions, accounts)
        site.start()
        print(f"[{engine}] mix: {args.users} users, {args.duration} s")
        result["mix"] = run_locust(site, args.users, args.duration, args, steady_only=False)
        print(
            f"[{engine}]   p95 {ms(result['mix'].total['p95'])} ms, 5xx {result['mix'].server_errors()}, "
            f"lost writes {result['mix'].writes['lost']}"
        )
        if args.knee:
            result["knee"] = []
            for users in args.knee_users:
                print(f"[{engine}] knee step: {users} users, {args.knee_duration} s once all have logged in")
                step = run_locust(site, users, args.knee_duration, args, steady_only=True)
                result["knee"].append(step)
                print(
                    f"[{engine}]   p95 {ms(step.total['p95'])} ms, {step.total['rps']:.0f} req/s, "
                    f"machine busy {pct(step.cpu['machine'])}"
                )
                if past_knee(step):
                    break
    finally:
        site.stop()
        if server is not None:
            server.stop()
        if args.keep:
            print(f"[{engine}] kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return result


def estimate(args) -> float:
    """Seconds the run will take, roughly: set-up, the mix, every knee step (ramp, run, stop)."""
    setup = 30 + args.institutions * 0.02
    knee = sum(u / args.spawn_rate + args.knee_duration + 15 for u in args.knee_users) if args.knee else 0
    return len(args.engines) * (setup + args.duration + 15 + knee)


def main() -> None:
    args = parse_args()
    if args.seed:
        seed(args.seed, args.accounts)
        return
    started = datetime.now()
    args.load_before = os.getloadavg()[0]
    print(f"load test: {', '.join(args.engines)}; at most about {estimate(args) / 60:.0f} min")
    results = [(engine, bench_engine(engine, args)) for engine in args.engines]
    text = report(results, args, started)
    OUT.mkdir(exist_ok=True)
    output = args.output or OUT / f"load-{started:%Y%m%d-%H%M%S}.md"
    output.write_text(text + "\n")
    print("\n" + text)
    print(f"\n(written to {output})")
    failed = any(
        r["mix"].server_errors()
        or r["mix"].writes["lost"]
        or any(s.writes["lost"] for s in r.get("knee", []))
        for _e, r in results
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
