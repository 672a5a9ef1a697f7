"""Accounts: everyone logs in with a mobile number and a password."""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from qzt.core import clock
from qzt.extensions import db
from qzt.models.base import UTCDateTime, enum_column


class Role(enum.StrEnum):
    ADMIN = "admin"
    AUTHORITY = "authority"  # 质量发展科
    OPERATOR = "operator"  # 运维机构
    INSTITUTION = "institution"
    AGENT = "agent"  # 客服人员 of one institution (Art. 6, 14)
    ENTERPRISE = "enterprise"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_staff(self) -> bool:
        return self in (Role.ADMIN, Role.AUTHORITY, Role.OPERATOR)


ROLE_LABELS = {
    Role.ADMIN: "系统管理员",
    Role.AUTHORITY: "平台管理单位（质量发展科）",
    Role.OPERATOR: "平台运维机构",
    Role.INSTITUTION: "服务机构",
    Role.AGENT: "客服人员",
    Role.ENTERPRISE: "企业用户",
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[Role] = mapped_column(enum_column(Role, name="role"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Failed logins (qzt.rules.lockout): the count since the first failure, and a lock's end.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session's id (get_id): a new value ends all sessions of the account at once.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def answers_for_institution(self) -> bool:
        """The institution's own account or one of its agents: they write on the institution's side."""
        return self.role in (Role.INSTITUTION, Role.AGENT)

    def set_password(self, password: str) -> None:
        # scrypt: slow and salted. Only the test suite lowers the cost (PASSWORD_HASH_METHOD).
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:  # flask-login: what the session holds
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Every session of this account stops working (logout, password change, deactivation)."""
        self.session_token = new_session_token()

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


class OneTimeCode(db.Model):
    """A code sent by SMS to let an account set its password at first login (an agent's, say). Only its
    hash is kept; it works once, until it expires."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class PhoneCode(db.Model):
    """An SMS code that proves a number is the user's (registration, password reset). Only its hash is
    kept; it dies when used, after MAX_TRIES wrong guesses, or when it expires (qzt.rules.codes)."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    tries: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
