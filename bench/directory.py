"""Directory benchmark over `qzt demo --count N` (default 10000).

1. Throughput under gunicorn: the directory page (no query, and a two-character search) beside the
   trivial /healthz route of the same app, measured in the same run; the figure that matters is the
   ratio (target: directory >= 30% of the trivial route).
2. Search latency in-process: qzt.directory.search.search over a set of typical queries; p50 and p95
   (target: p95 <= 10 ms).

Load comes from wrk when it is installed (Debian package `wrk`), else from a Python client.
Usage: .venv/bin/python bench/directory.py [--count 10000] [--seconds 8] [--database-url URL]
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
QUERIES = [
    "计量",
    "检测",
    "认证",
    "CMA",
    "cnas",
    "ISO9001",
    "知识产权",
    "检验检测",
    "质量管理体系",
    "校准",
    "商标",
    "特种设备",
    "佛山",
    "顺德",
    "标准制定",
    "培训",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict, count: int) -> None:
    flask = [str(BIN / "flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(
        [*flask, "qzt", "demo", "--count", str(count)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    print(f"demo data: {count} institutions in {time.perf_counter() - started:.1f} s")


def wrk_rps(url: str, seconds: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("Requests/sec:"))
    return float(line.split()[1])


def python_rps(url: str, seconds: int, clients: int = 8) -> float:
    host, _, rest = url.removeprefix("http://").partition("/")
    name, port = host.split(":")
    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(i: int) -> None:
        while time.perf_counter() < deadline:
            conn = HTTPConnection(name, int(port), timeout=30)
            conn.request("GET", "/" + rest)
            conn.getresponse().read()
            conn.close()
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def throughput(env: dict, seconds: int, cache: bool = True) -> dict[str, float]:
    env = {**env, "QZT_PAGE_CACHE": "1" if cache else "0"}
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        measure = wrk_rps if shutil.which("wrk") else python_rps
        print(
            f"load generator: {'wrk' if measure is wrk_rps else 'python threads'}, {seconds} s per route, "
            f"page cache {'on' if cache else 'off'}"
        )
        routes = {
            "trivial /healthz": "/healthz",
            "directory": "/directory",
            "directory ?q=检测": "/directory?q=%E6%A3%80%E6%B5%8B",
            "home (category counts)": "/",
        }
        for path in routes.values():  # warm up every worker
            for _ in range(10):
                urllib.request.urlopen(base + path).read()
        result = {name: measure(base + path, seconds) for name, path in routes.items()}
        # The baseline again at the end, so drift in machine load shows up in the figure.
        result["trivial /healthz"] = (result["trivial /healthz"] + measure(base + "/healthz", seconds)) / 2
        return result
    finally:
        server.terminate()
        server.wait()


def search_latency(database_url: str, rounds: int) -> tuple[float, float, float]:
    sys.path.insert(0, str(ROOT))
    from qzt import create_app
    from qzt.directory.search import Filters, search

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    timings = []
    with app.app_context():
        for q in QUERIES:  # warm-up
            search(Filters(q=q))
        for _ in range(rounds):
            for q in QUERIES:
                started = time.perf_counter()
                search(Filters(q=q))
                timings.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            search(Filters(q="检测", category="inspection", district="shunde"))
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)], timings[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database to use instead of a scratch SQLite file")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="qzt-bench-"))
    url = args.database_url or f"sqlite:///{scratch / 'bench.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    try:
        prepare(env, args.count)
        rps = throughput(env, args.seconds)
        uncached = throughput(env, args.seconds, cache=False)
        rps.update(
            {
                f"{name} (no page cache)": value
                for name, value in uncached.items()
                if not name.startswith("trivial")
            }
        )
        p50, p95, worst = search_latency(
            url.replace("postgresql://", "postgresql+psycopg://", 1), args.rounds
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    baseline = rps["trivial /healthz"]
    print(f"\n{'route':<42}{'req/s':>10}{'vs trivial':>12}")
    for name, value in rps.items():
        print(f"{name:<42}{value:>10.0f}{value / baseline:>11.0%}")
    print(
        f"\nsearch in-process over {args.count} institutions: p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
        f"max {worst:.2f} ms"
    )
    ok_ratio = rps["directory"] / baseline >= 0.30
    ok_p95 = p95 <= 10
    print(
        f"targets: directory >= 30% of trivial: {'met' if ok_ratio else 'MISSED'}; "
        f"search p95 <= 10 ms: {'met' if ok_p95 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
