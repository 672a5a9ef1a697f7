"""The outbox: every notice is written here in the same transaction as the change that causes it.

`flask qzt tick` sends what is due through the configured SMS backend, with retries and backoff; the
applicant also reads its notices on the site.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by one tick; nobody else sends it
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a code sent to a number that has no account yet (registration).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    phone: Mapped[str] = mapped_column(sa.String(20))
    sms_params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # A key that makes a notice unique (e.g. "deadline-near:application:7:2026-12-01"): never twice.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState, name="delivery_state"), default=DeliveryState.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # How it goes out (qzt.rules.wechat): "sms" to `phone`, or "wechat" (a subscription message) to
    # `openid`. A notice sent by both is two rows; the second points at the first (copy_of_id) and is
    # not listed again on the site.
    channel: Mapped[str] = mapped_column(sa.String(10), default="sms", server_default="sms")
    openid: Mapped[str | None] = mapped_column(sa.String(64))
    copy_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notifications.id"))

    user = relationship("User")
