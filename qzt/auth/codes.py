"""SMS codes that prove a number is the user's (qzt.rules.codes): asked for at registration and for a
password reset, sent through the outbox, proved once. Only a code's hash is kept."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from qzt.core import audit, clock, notifications, sms
from qzt.extensions import db
from qzt.models import PhoneCode
from qzt.rules import codes
from qzt.rules import phone as phones


class CodeError(ValueError):
    """A message for the user saying what to fix."""


@dataclass(frozen=True)
class SentCode:
    phone: str
    shown: str | None  # the code itself, only where SMS goes to the log (演示环境验证码)


def request(number: str, purpose: str, ip: str = "") -> SentCode:
    """A new code for the number, queued as an SMS in the same transaction. The same answer whether or not
    the number has an account; CodeError when a code was sent less than a minute ago."""
    number = phones.normalize(number)
    if not phones.is_mobile(number):
        raise CodeError("请输入11位中国大陆手机号码，如 13800138000")
    now = clock.now()
    last_sent = db.session.scalar(
        sa.select(sa.func.max(PhoneCode.created_at)).where(PhoneCode.phone == number)
    )
    if wait := codes.seconds_to_wait(last_sent, now):
        raise CodeError(f"验证码已发送，请{wait}秒后再重新获取")
    code = codes.new_code()
    ticket = PhoneCode(
        phone=number,
        purpose=purpose,
        code_hash=generate_password_hash(code, method="pbkdf2:sha256:100000"),
        expires_at=now + codes.LIFETIME,
        ip=ip[:45],
        created_at=now,
    )
    db.session.add(ticket)
    db.session.flush()
    minutes = codes.LIFETIME.seconds // 60
    notifications.notify_number(
        number,
        "verification-code",
        "短信验证码",
        f"您正在佛山企质通{codes.PURPOSES[purpose]}，验证码{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
        sms_params={"code": code},
    )
    audit.record(None, "code_requested", ticket, note=codes.PURPOSES[purpose], ip=ip)
    return SentCode(number, code if sms.is_log_backend(current_app.config) else None)


def prove(number: str, purpose: str, typed: str) -> None:
    """The latest code for the number is the one typed: it is used up. CodeError otherwise, the try
    counted (five wrong ones and the code is dead)."""
    number = phones.normalize(number)
    now = clock.now()
    ticket = _latest(number, purpose)
    if ticket is None:
        raise CodeError("请先点击[获取验证码]，用收到的短信验证码完成验证")
    state = codes.Ticket(ticket.expires_at, ticket.tries, ticket.used_at)
    if problem := state.problem(now):
        raise CodeError(problem)
    if not check_password_hash(ticket.code_hash, codes.clean(typed)):
        ticket.tries += 1
        left = codes.MAX_TRIES - ticket.tries
        raise CodeError(f"验证码不正确，还可再试{left}次" if left else state.problem_after_last_try())
    ticket.used_at = now


def _latest(number: str, purpose: str) -> PhoneCode | None:
    return db.session.scalar(
        sa.select(PhoneCode)
        .where(PhoneCode.phone == number, PhoneCode.purpose == purpose)
        .order_by(PhoneCode.id.desc())
        .limit(1)
    )
