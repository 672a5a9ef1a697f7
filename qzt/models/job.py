"""Background jobs (批量打印 and the like): queued by a page, run by `qzt tick` (the outbox's worker), their
progress read back by the page that queued them."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"  # claimed by one worker
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": "排队中", "running": "生成中", "done": "已完成", "failed": "失败"}[self.value]


class BackgroundJob(db.Model):
    __tablename__ = "background_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    state: Mapped[JobState] = mapped_column(
        enum_column(JobState, name="job_state"), default=JobState.QUEUED, index=True
    )
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    error: Mapped[str] = mapped_column(sa.Text, default="")
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by = relationship("User")
    file = relationship("StoredFile")

    @property
    def percent(self) -> int:
        return 100 if self.state == JobState.DONE else (100 * self.done // self.total if self.total else 0)

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)
