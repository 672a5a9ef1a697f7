"""Accounts: creating users, checking credentials, staff accounts."""

import hmac
import secrets
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from qzt.core import audit, clock
from qzt.extensions import db
from qzt.models import Enterprise, OneTimeCode, Role, User
from qzt.rules import lockout, passwords, uscc
from qzt.rules import phone as phones
from qzt.rules.calendar import to_beijing


class AccountError(ValueError):
    """A message for the user saying what to fix."""


class NumberTaken(AccountError):
    """The number already has an account: said only once its SMS code is proved (no listing numbers)."""


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
        raise NumberTaken(f"手机号码 {number} 已注册：请直接登录，忘记密码可在登录页点击“忘记密码”重设")
    user = User(role=role, phone=number, name=name.strip() or number)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


class LockedOut(AccountError):
    """Too many failed logins (qzt.rules.lockout): `until` is when the account opens again."""

    def __init__(self, until):
        self.until = until
        super().__init__(
            f"登录失败次数过多，账号已锁定至{to_beijing(until):%H:%M}（北京时间）。"
            "请届时再试，或联系平台运维机构解锁。"
        )


@cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(phone: str, password: str, ip: str = "") -> User | None:
    """The user whose number and password these are, or None; an unknown number costs the same time as
    a wrong password, and says the same. LockedOut while the account is locked."""
    user = db.session.scalar(sa.select(User).where(User.phone == phones.normalize(phone)))
    if user is None:
        check_password_hash(_decoy_hash(), password)
        return None
    now = clock.now()
    if lockout.is_locked(_attempts(user), now):
        raise LockedOut(user.locked_until)
    if user.active and user.check_password(password):
        _keep(user, lockout.after_success())
        audit.record(user, "login", user, ip=ip)
        return user
    attempts = lockout.after_failure(_attempts(user), now)
    _keep(user, attempts)
    audit.record(None, "login_failed", user, ip=ip)
    if lockout.is_locked(attempts, now):
        audit.record(None, "account_locked", user, note=f"连续{lockout.MAX_FAILURES}次登录失败", ip=ip)
        raise LockedOut(attempts.locked_until)
    return None


def _attempts(user: User) -> lockout.Attempts:
    return lockout.Attempts(user.failed_logins or 0, user.first_failed_at, user.locked_until)


def _keep(user: User, attempts: lockout.Attempts) -> None:
    user.failed_logins, user.first_failed_at = attempts.failures, attempts.first_failed_at
    user.locked_until = attempts.locked_until


def unlock(user: User, by: User | None, ip: str = "") -> None:
    """Staff open a locked account before its time."""
    _keep(user, lockout.after_success())
    audit.record(by, "account_unlocked", user, ip=ip)


def register_enterprise(phone: str, password: str, company: str, code: str | None) -> User:
    """An enterprise user (平台客户) and its company; the code, when given, normalised."""
    user = create_user(Role.ENTERPRISE, phone, company, password)
    db.session.add(
        Enterprise(user_id=user.id, name=company.strip()[:200], uscc=uscc.normalize(code) if code else None)
    )
    db.session.flush()
    return user


def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the account behind the session, while the session's token is the
    account's current one (User.get_id) and the account is on."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None  # a session from before tokens, or a forged one
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def log_out(user: User, ip: str = "") -> None:
    """[退出登录] ends the account's sessions everywhere, not only this browser's."""
    user.end_sessions()
    audit.record(user, "logout", user, ip=ip)


def reset_password(phone: str, password: str, ip: str = "") -> User:
    """[忘记密码], once the number's SMS code is proved: a new password, the lock lifted, every session
    ended."""
    user = db.session.scalar(sa.select(User).where(User.phone == phones.normalize(phone)))
    if user is None or not user.active:
        raise AccountError("该手机号码没有可用的账号，请先注册")
    if problem := passwords.problem(password, user.phone):
        raise AccountError(problem)
    user.set_password(password)
    user.end_sessions()
    _keep(user, lockout.after_success())
    audit.record(user, "password_reset", user, ip=ip)
    return user


def change_password(user: User, current: str, new: str, ip: str = "") -> None:
    """[修改密码]: the current password again, a new one that passes the rules; every other session ends."""
    if not user.check_password(current):
        raise AccountError("当前密码不正确")
    if problem := passwords.problem(new, user.phone):
        raise AccountError(problem)
    if user.check_password(new):
        raise AccountError("新密码不能与当前密码相同")
    user.set_password(new)
    user.end_sessions()
    audit.record(user, "password_changed", user, ip=ip)


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
    user.end_sessions()
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
    user.end_sessions()
    return user
