"""SMS codes that prove a phone number is the user's (registration, password reset): 6 digits, valid 5
minutes, 5 wrong tries and it is dead, at most one per minute per number. Registration and reset never
say whether a number has an account before its code is proved."""

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

DIGITS = 6
LIFETIME = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = timedelta(minutes=1)

REGISTER = "register"
RESET = "reset"
WECHAT = "wechat"
PURPOSES = {REGISTER: "注册", RESET: "重设密码", WECHAT: "绑定微信"}


def new_code() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def clean(typed: str | None) -> str:
    """What the user typed, as digits: spaces and full-width digits are forgiven."""
    return "".join(c for c in unicodedata.normalize("NFKC", typed or "") if c.isdigit() and c.isascii())


def seconds_to_wait(last_sent_at: datetime | None, now: datetime) -> int:
    """0 when a new code may be sent to the number now, else the whole seconds left."""
    if last_sent_at is None or now - last_sent_at >= RESEND_AFTER:
        return 0
    left = RESEND_AFTER - (now - last_sent_at)
    return max(1, int(-(-left.total_seconds() // 1)))


@dataclass(frozen=True)
class Ticket:
    """The state of the latest code sent to a number for one purpose."""

    expires_at: datetime
    tries: int = 0
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at and self.tries < MAX_TRIES

    def problem(self, now: datetime) -> str | None:
        """Why the code can no longer be proved, or None."""
        if self.used_at is not None:
            return "验证码已使用，请重新获取"
        if self.tries >= MAX_TRIES:
            return self.problem_after_last_try()
        if now >= self.expires_at:
            return f"验证码已过期（{LIFETIME.seconds // 60}分钟内有效），请重新获取"
        return None

    @staticmethod
    def problem_after_last_try() -> str:
        return f"验证码已输错{MAX_TRIES}次，请重新获取"
