"""A WeChat identity bound to an account (qzt.wechat): its openid under our official account, and the
unionid where the account belongs to a WeChat Open Platform."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime


class WechatIdentity(db.Model):
    __tablename__ = "wechat_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    openid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # Which channels carry notices (qzt.rules.wechat.NOTIFY_CHOICES).
    notify_by: Mapped[str] = mapped_column(sa.String(10), default="wechat", server_default="wechat")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user = relationship("User")
