"""Background jobs, run by `qzt tick` like the outbox: claimed by one worker at a time, progress committed
as it goes so the page that queued the job can show it, a job abandoned by a dead worker taken up again.

A kind's handler is registered by the app's composer (`register`), never at import time. A handler
gets the job and a `progress(done, total)` callback and returns the StoredFile it made."""

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from qzt.core import clock
from qzt.extensions import db
from qzt.models import BackgroundJob, JobState, StoredFile, User

ABANDONED_AFTER = timedelta(minutes=15)  # a running job nobody has advanced for this long is run again

Handler = Callable[[BackgroundJob, Callable[[int, int], None]], StoredFile]


def handlers() -> dict[str, Handler]:
    return current_app.extensions.setdefault("qzt_job_handlers", {})


def register(app, kind: str, handler: Handler) -> None:
    app.extensions.setdefault("qzt_job_handlers", {})[kind] = handler


def queue(kind: str, params: dict, by: User, total: int) -> BackgroundJob:
    job = BackgroundJob(kind=kind, params=params, requested_by_id=by.id, total=total)
    db.session.add(job)
    db.session.flush()
    return job


def run_due(now: datetime | None = None, limit: int = 5) -> int:
    """Run queued (and abandoned) jobs, one at a time; returns how many finished."""
    finished = 0
    for job_id in _due_ids(now or clock.now(), limit):
        job = _claim(job_id, now or clock.now())
        if job is not None:
            _run(job)
            finished += 1
    return finished


def _due_ids(now: datetime, limit: int) -> list[int]:
    stale = now - ABANDONED_AFTER
    ids = db.session.scalars(
        sa.select(BackgroundJob.id)
        .where(
            sa.or_(
                BackgroundJob.state == JobState.QUEUED,
                sa.and_(BackgroundJob.state == JobState.RUNNING, BackgroundJob.claimed_at < stale),
            )
        )
        .order_by(BackgroundJob.id)
        .limit(limit)
    ).all()
    db.session.commit()
    return list(ids)


def _claim(job_id: int, now: datetime) -> BackgroundJob | None:
    """queued (or abandoned) -> running for this worker alone, committed before any work."""
    stale = now - ABANDONED_AFTER
    claimed = db.session.execute(
        sa.update(BackgroundJob)
        .where(
            BackgroundJob.id == job_id,
            sa.or_(
                BackgroundJob.state == JobState.QUEUED,
                sa.and_(BackgroundJob.state == JobState.RUNNING, BackgroundJob.claimed_at < stale),
            ),
        )
        .values(state=JobState.RUNNING, claimed_at=now, done=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return db.session.get(BackgroundJob, job_id) if claimed == 1 else None


def _run(job: BackgroundJob) -> None:
    def progress(done: int, total: int) -> None:
        job.done, job.total, job.claimed_at = done, total, clock.now()  # claimed_at: still alive
        db.session.commit()

    handler = handlers().get(job.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        stored = handler(job, progress)
    except Exception as e:  # the job fails; the worker goes on with the next one
        db.session.rollback()
        current_app.logger.exception("job #%s (%s) failed", job.id, job.kind)
        job.state, job.error, job.finished_at = JobState.FAILED, f"{type(e).__name__}: {e}"[:500], clock.now()
    else:
        job.state, job.file_id, job.finished_at = JobState.DONE, stored.id, clock.now()
        job.done = job.total
    db.session.commit()


def of_user(job_id: int, user: User) -> BackgroundJob | None:
    """The job, for the person who queued it; None for anyone else."""
    job = db.session.get(BackgroundJob, job_id)
    return job if job is not None and job.requested_by_id == user.id else None
