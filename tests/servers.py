"""Real servers the tests start on loopback: the app under gunicorn as production runs it, and Redis."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`gunicorn app:app` as it is run in production, in its own process group, on a free port. Options
    on the command line; -c /dev/null keeps a gunicorn.conf.py in the working directory out of it."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2):
        self.env, self.log, self.workers = env, log, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        """Start it and wait until /healthz answers; the seconds that took."""
        started = time.monotonic()
        command = [str(GUNICORN), "-c", "/dev/null", "app:app", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(self.workers), "--timeout", "30"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = started + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited: {self.log.read_text()[-2000:]}"
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).text == "ok":
                    return time.monotonic() - started
            except requests.RequestException:
                pass  # not listening yet, or its workers still booting
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer /healthz: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL to the master and its workers at once: no shutdown code runs."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


def app_env(database_url: str, instance: Path, **settings: str) -> dict[str, str]:
    """The environment of an app process on the test database: none of this shell's QZT_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QZT_", "GUNICORN"))}
    return env | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "live-test-secret",
        "QZT_INSTANCE_PATH": str(instance),
        **settings,
    }


class Redis:
    """Debian's redis-server on a free loopback port, in memory only (no file written), for one test."""

    def __init__(self, base: Path):
        self.base, self.port = base, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed: run `make test`, which installs Debian's redis-server"
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [binary, *options, "--dir", str(self.base)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not answer PING")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


OK_REPLY = {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5-B967-440B"}


class _SmsHandler(BaseHTTPRequestHandler):
    """Answers SendSms like dysmsapi.aliyuncs.com (the SDK sends the parameters in the query string; a form
    body is read as well)."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode() if length else ""
        fields = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        fields.update({k: v[0] for k, v in parse_qs(form).items()})
        headers = {k.lower(): v for k, v in self.headers.items()}
        provider: SmsProvider = self.server.provider
        time.sleep(provider.delay)
        with provider.lock:
            provider.received.append({"fields": fields, "headers": headers})
            status, reply = provider.replies.pop(0) if provider.replies else (200, OK_REPLY)
        payload = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class SmsProvider:
    """A real HTTP server on 127.0.0.1 standing in for Alibaba Cloud's SMS endpoint: `received` holds each
    request's fields and headers, `replies` queues (status, body) answers (else OK), `delay` slows each
    answer (so that concurrent senders overlap)."""

    def __init__(self, delay: float = 0.0):
        self.delay, self.received, self.replies, self.lock = delay, [], [], threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _SmsHandler)
        self.server.daemon_threads, self.server.provider = True, self
        self.endpoint = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SmsProvider":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
