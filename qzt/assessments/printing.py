"""批量打印: many score sheets in one PDF, built by the background worker in chunks so that memory stays
bounded whatever the count: each chunk is laid out alone and written to disk, then the chunks are
joined page by page (pypdf) into the one file staff download."""

import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from pypdf import PdfWriter
from sqlalchemy.orm import selectinload

from qzt.assessments import services, sheet
from qzt.core import files, jobs
from qzt.extensions import db
from qzt.models import Assessment, AssessmentState, BackgroundJob, StoredFile, User

KIND = "assessment_sheets"
CHUNK = 25  # sheets laid out at once: WeasyPrint's memory grows with the pages of one document


def request_batch(
    by: User, filters: services.Filters, base_url: str = "http://localhost/"
) -> BackgroundJob | None:
    """Queue the sheets `filters` selects; None when it selects none. `base_url` is the site's address
    as staff reach it: the QR codes the worker prints point there."""
    total = services.count(filters)
    if not total:
        return None
    params = {
        "year": filters.year,
        "number": filters.number,
        "state": filters.state.value if filters.state else None,
        "ids": list(filters.ids),
        "base_url": base_url,
    }
    return jobs.queue(KIND, params, by, total)


def _filters(params: dict) -> services.Filters:
    state = params.get("state")
    return services.Filters(
        year=params.get("year"),
        number=params.get("number"),
        state=AssessmentState(state) if state else None,
        ids=tuple(params.get("ids") or ()),
    )


def build(job: BackgroundJob, progress) -> StoredFile:
    """The job's handler: render CHUNK sheets at a time to disk, then join them."""
    stmt = services.listed(_filters(job.params)).with_only_columns(Assessment.id)
    ids = list(db.session.scalars(stmt))
    with tempfile.TemporaryDirectory(prefix="qzt-print-") as tmp:
        parts = []
        order = {id_: n for n, id_ in enumerate(ids)}
        for start in range(0, len(ids), CHUNK):
            chunk = db.session.scalars(
                sa.select(Assessment)
                .where(Assessment.id.in_(ids[start : start + CHUNK]))
                .options(selectinload(Assessment.items))
            ).all()
            part = Path(tmp, f"{start:06d}.pdf")
            with current_app.test_request_context(base_url=job.params.get("base_url") or None):
                part.write_bytes(sheet.sheets_pdf(sorted(chunk, key=lambda a: order[a.id])))
            parts.append(part)
            for assessment in chunk:
                db.session.expunge(assessment)  # let the rendered rows go
            progress(min(start + CHUNK, len(ids)), len(ids))
        joined = Path(tmp, "all.pdf")
        writer = PdfWriter()
        for part in parts:
            writer.append(str(part))
        with joined.open("wb") as out:
            writer.write(out)
        writer.close()
        owner = db.session.get(User, job.requested_by_id)
        name = f"考核评分表-批量-{job.id}.pdf"
        return files.store_generated(owner, "assessment_print", joined.read_bytes(), name, "application/pdf")


def register(app) -> None:
    jobs.register(app, KIND, build)
