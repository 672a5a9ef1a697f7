"""Brute force (MLPS 2.0 level 2, 登录失败处理): 5 failed logins for one account within 15 minutes lock it
for 15 minutes. The count starts at the first failure; a success, or a window that ran out, starts it
again. While locked, even the right password is refused, and the lock's end is said."""

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


@dataclass(frozen=True)
class Attempts:
    failures: int = 0
    first_failed_at: datetime | None = None
    locked_until: datetime | None = None


def is_locked(attempts: Attempts, now: datetime) -> bool:
    return attempts.locked_until is not None and now < attempts.locked_until


def after_failure(attempts: Attempts, now: datetime) -> Attempts:
    if is_locked(attempts, now):
        return attempts
    fresh = attempts.first_failed_at is None or now - attempts.first_failed_at >= WINDOW
    failures, first = (1, now) if fresh else (attempts.failures + 1, attempts.first_failed_at)
    if failures >= MAX_FAILURES:
        return Attempts(0, None, now + LOCK)
    return Attempts(failures, first, None)


def after_success() -> Attempts:
    return Attempts()
