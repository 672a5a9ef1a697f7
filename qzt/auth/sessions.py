"""Sessions the server can end: the session holds the account's id and its session token (User.get_id),
so a new token ends every session of the account; staff sessions also time out (qzt.rules.sessions)."""

from datetime import UTC, datetime

from flask import flash, session
from flask_login import current_user, login_user, logout_user

from qzt.core import clock
from qzt.models import User
from qzt.rules import sessions

LOGGED_IN_AT = "qzt_login_at"
SEEN_AT = "qzt_seen_at"


def start(user: User) -> None:
    """Log in with a fresh session: nothing a visitor's session held before (session fixation) carries
    over, except where they were going."""
    session.clear()
    login_user(user)
    now = _stamp(clock.now())
    session[LOGGED_IN_AT] = session[SEEN_AT] = now


def end() -> None:
    logout_user()
    session.clear()


def check() -> None:
    """Before each request: a session past its time is ended, with the reason shown at the login page."""
    if not current_user.is_authenticated:
        return
    now = clock.now()
    logged_in_at = _time(session.get(LOGGED_IN_AT))
    seen_at = _time(session.get(SEEN_AT))
    if logged_in_at is None or seen_at is None:
        reason = "登录已过期，请重新登录"  # a session from before timeouts were kept
    else:
        reason = sessions.expiry(current_user.is_staff, logged_in_at, seen_at, now)
    if reason:
        end()
        flash(reason, "warning")
    elif now - seen_at >= sessions.SEEN_GRANULARITY:
        session[SEEN_AT] = _stamp(now)


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _time(stamp) -> datetime | None:
    return datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int) else None
