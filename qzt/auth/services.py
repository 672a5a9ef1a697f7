"""Accounts: creating users, checking credentials, staff accounts."""

import secrets
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from qzt.core import audit, clock
from qzt.extensions import db
from qzt.models import Enterprise, OneTimeCode, Role, User
from qzt.rules import passwords, uscc
from qzt.rules import phone as phones


class AccountError(ValueError):
    """A message for the user saying what to fix."""


MAX_NAME = 100  # users.name


def create_user(role: Role, phone: str, name: str, password: str) -> User:
    number = phones.normalize(phone)
    if not phones.is_mobile(number):
        raise AccountError("手机号码无效：请输入11位中国大陆手机号码")
    if len(name.strip()) > MAX_NAME:
        raise AccountError(f"姓名不能超过{MAX_NAME}个字")
    if problem := passwords.problem(password, number):
        raise AccountError(problem)
    if db.session.scalar(sa.select(User).where(User.phone == number)):
        raise AccountError(f"手机号码 {number} 已注册")
    user = User(role=role, phone=number, name=name.strip() or number)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(phone: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.phone == phones.normalize(phone)))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def register_enterprise(phone: str, password: str, company: str, code: str | None) -> User:
    """An enterprise user (平台客户) and its company; the code, when given, normalised."""
    user = create_user(Role.ENTERPRISE, phone, company, password)
    db.session.add(
        Enterprise(user_id=user.id, name=company.strip()[:200], uscc=uscc.normalize(code) if code else None)
    )
    db.session.flush()
    return user


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the account behind the session."""
    return db.session.get(User, int(user_id))


STAFF_ROLES = (Role.OPERATOR, Role.AUTHORITY, Role.ADMIN)


def staff_accounts() -> list[User]:
    stmt = sa.select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.id)
    return list(db.session.scalars(stmt))


def create_staff_account(role: Role, phone: str, name: str, password: str, by: User, ip: str = "") -> User:
    """The admin creates an operator, authority or admin account; audited."""
    if role not in STAFF_ROLES:
        raise AccountError("请选择角色")
    user = create_user(role, phone, name, password)
    audit.record(by, "create_staff", user, after={"role": role.value, "phone": user.phone}, ip=ip)
    return user


def toggle_staff_account(user: User, by: User, ip: str = "") -> None:
    """The admin switches a staff account off or on again; audited."""
    before = {"active": user.active}
    user.active = not user.active
    audit.record(by, "toggle_staff", user, before=before, after={"active": user.active}, ip=ip)


CODE_LIFETIME = timedelta(hours=24)
CODE_DIGITS = 6


def issue_code(user: User, purpose: str) -> str:
    """A fresh one-time code for `user` (earlier unused ones stop working); only its hash is kept."""
    now = clock.now()
    for old in db.session.scalars(
        sa.select(OneTimeCode).where(OneTimeCode.user_id == user.id, OneTimeCode.used_at.is_(None))
    ):
        old.used_at = now
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    db.session.add(
        OneTimeCode(
            user_id=user.id,
            purpose=purpose,
            code_hash=generate_password_hash(code, method="pbkdf2:sha256:100000"),
            expires_at=now + CODE_LIFETIME,
        )
    )
    db.session.flush()
    return code


def activate(phone: str, code: str, password: str) -> User:
    """First login with the code sent by SMS: the account sets its own password; the code is used up."""
    if problem := passwords.problem(password, phones.normalize(phone)):
        raise AccountError(problem)
    user = db.session.scalar(sa.select(User).where(User.phone == phones.normalize(phone)))
    now = clock.now()
    ticket = None
    if user is not None and user.active:
        ticket = db.session.scalar(
            sa.select(OneTimeCode)
            .where(
                OneTimeCode.user_id == user.id, OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now
            )
            .order_by(OneTimeCode.id.desc())
            .limit(1)
        )
    if ticket is None or not check_password_hash(ticket.code_hash, (code or "").strip()):
        raise AccountError("手机号码或验证码不正确，或验证码已过期：请向机构管理员重新获取")
    ticket.used_at = now
    user.set_password(password)
    return user
