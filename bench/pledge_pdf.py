"""Pledge PDF benchmark: qzt.pledges.pdf.pledge_pdf beside a bare WeasyPrint render of the same HTML.

Both run in the same process on a scratch SQLite database migrated with flask_migrate.upgrade; each is
warmed up once, then timed N times, the two taking turns so that both see the same load on the machine;
the figure that matters is the ratio of the medians (target <= 1.2).
Also reports whether WeasyPrint subsets fonts with HarfBuzz (libharfbuzz-subset0) or falls back to fontTools.
Usage: .venv/bin/python bench/pledge_pdf.py [--runs 10] [--save pledge.pdf]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "tests"))  # tests/factories.py: the very application the tests sign

from factories import make_application, signature_png  # noqa: E402
from flask import render_template  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.text.ffi import harfbuzz, harfbuzz_subset  # noqa: E402

from qzt import create_app  # noqa: E402
from qzt.documents import STYLESHEETS, pdf_dir  # noqa: E402
from qzt.extensions import db  # noqa: E402
from qzt.pledges import signing  # noqa: E402
from qzt.pledges.pdf import TEMPLATE, pledge_context, pledge_pdf  # noqa: E402


def medians(renders: dict, runs: int) -> dict[str, float]:
    """Median seconds of each render, timed in turns after one warm-up each (fontconfig, font files)."""
    times = {name: [] for name in renders}
    for render in renders.values():
        render()
    for _ in range(runs):
        for name, render in renders.items():
            started = time.perf_counter()
            render()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--save", type=Path, help="also write the pledge PDF here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "INSTANCE_PATH": tmp,
                "SECRET_KEY": "bench",
            }
        )
        with app.test_request_context(base_url="https://qzt.foshan.example"):
            upgrade()
            application = make_application(drawing=signature_png(), user_agent="bench")
            signature = signing.latest(application)
            html = render_template(TEMPLATE, **pledge_context(signature))
            stylesheets = [CSS(filename=pdf_dir() / name) for name in STYLESHEETS]

            timings = medians(
                {
                    "pledge_pdf": lambda: pledge_pdf(signature),
                    "bare": lambda: HTML(string=html).write_pdf(stylesheets=stylesheets),
                },
                args.runs,
            )
            pdf = pledge_pdf(signature)
            if args.save:
                args.save.write_bytes(pdf)
            db.engine.dispose()

    subsetting = "HarfBuzz" if harfbuzz_subset and harfbuzz.hb_version_atleast(4, 1, 0) else "fontTools"
    print(f"font subsetting: {subsetting}")
    print(f"PDF size: {len(pdf) / 1024:.0f} KiB")
    ours, bare = timings["pledge_pdf"], timings["bare"]
    print(f"pledge_pdf:      median {ours * 1000:7.1f} ms over {args.runs} runs")
    print(f"bare WeasyPrint: median {bare * 1000:7.1f} ms over {args.runs} runs")
    print(f"ratio pledge_pdf / bare: {ours / bare:.2f} (target <= 1.20)")


if __name__ == "__main__":
    main()
