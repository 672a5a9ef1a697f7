"""Score-sheet printing benchmark: a batch of N sheets built as the worker builds it, beside N single renders.

Each mode runs in a child process of its own on the same scratch SQLite database (N institutions with an
assessment each, migrated with flask_migrate.upgrade), so that each reports its own peak memory (the
child's ru_maxrss). The batch is qzt.assessments.printing.build, the background job's handler, chunk by
chunk into one joined PDF; the baseline is N calls of sheet_pdf, one PDF per sheet, kept in memory.
Targets (issue 11): the batch of 500 within 60 s and 500 MB on this 2-core machine.
Usage: .venv/bin/python bench/score_sheets.py [--sheets 500]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from qzt import create_app  # noqa: E402
from qzt.extensions import db  # noqa: E402

OPENED = date(2025, 1, 6)


def make_app(tmp: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
            "INSTANCE_PATH": tmp,
            "SECRET_KEY": "bench",
        }
    )


def prepare(tmp: str, sheets: int) -> None:
    from qzt.assessments import services
    from qzt.directory import demo, institutions
    from qzt.models import Institution, Role, User

    app = make_app(tmp)
    with app.app_context():
        upgrade()
        institutions.bulk_create_listed(demo.institutions(sheets))
        db.session.execute(db.update(Institution).values(opened_on=OPENED))
        db.session.add(User(phone="13900000003", name="运维", role=Role.OPERATOR, password_hash="x"))
        db.session.commit()
        services.open_due(date(2026, 7, 6))
        db.session.commit()
        db.engine.dispose()


def run(tmp: str, mode: str, chunk: int) -> dict:
    from qzt.assessments import printing, services, sheet
    from qzt.core import files
    from qzt.models import Assessment, BackgroundJob, User

    printing.CHUNK = chunk or printing.CHUNK

    app = make_app(tmp)
    with app.test_request_context(base_url="https://qzt.foshan.example"):
        operator = db.session.scalar(db.select(User))
        started = time.perf_counter()
        if mode == "batch":
            job = printing.request_batch(operator, services.Filters(), "https://qzt.foshan.example/")
            db.session.commit()
            stored = printing.build(db.session.get(BackgroundJob, job.id), lambda done, total: None)
            size = len(files.read(stored))
        else:
            size = 0
            for assessment in db.session.scalars(db.select(Assessment).order_by(Assessment.id)):
                size += len(sheet.sheet_pdf(assessment))
        seconds = time.perf_counter() - started
        db.engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "seconds": seconds, "peak_mb": peak, "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=500)
    parser.add_argument("--chunk", type=int, help="sheets per chunk (default: printing.CHUNK)")
    parser.add_argument("--child", nargs=3, metavar=("TMP", "MODE", "CHUNK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tmp, mode, chunk = args.child
        print(json.dumps(run(tmp, mode, int(chunk))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        prepare(tmp, args.sheets)
        results = {}
        for mode in ("single", "batch"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", tmp, mode, str(args.chunk or 0)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            results[mode] = json.loads(out.strip().splitlines()[-1])
    single, batch = results["single"], results["batch"]
    print(f"{args.sheets} score sheets")
    print(f"  {args.sheets} single renders: {single['seconds']:.1f} s, peak {single['peak_mb']:.0f} MB")
    print(
        f"  one batch (worker):  {batch['seconds']:.1f} s, peak {batch['peak_mb']:.0f} MB, "
        f"{batch['bytes'] / 1e6:.1f} MB PDF"
    )
    print(f"  batch / single time: {batch['seconds'] / single['seconds']:.2f}")
    ok = batch["seconds"] <= 60 and batch["peak_mb"] <= 500
    print(f"  target (≤ 60 s, ≤ 500 MB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
