"""How long a login lasts (MLPS 2.0 level 2, 会话超时): staff 30 minutes without a request or 12 hours in
all, whichever comes first; everyone else 30 days in all. Logging out, changing the password or being
switched off ends every session of the account at once (the session token, qzt.models.User)."""

from datetime import datetime, timedelta

STAFF_IDLE = timedelta(minutes=30)
STAFF_ABSOLUTE = timedelta(hours=12)
OTHERS_ABSOLUTE = timedelta(days=30)
# The last-seen time is written back at most this often, not on every request.
SEEN_GRANULARITY = timedelta(minutes=1)


def expiry(is_staff: bool, logged_in_at: datetime, seen_at: datetime, now: datetime) -> str | None:
    """Why the session is over (a Chinese sentence for the login page), or None while it lasts."""
    if is_staff:
        if now - logged_in_at >= STAFF_ABSOLUTE:
            return f"登录已超过{STAFF_ABSOLUTE.seconds // 3600}小时，为安全起见请重新登录"
        if now - seen_at >= STAFF_IDLE:
            return f"您已{STAFF_IDLE.seconds // 60}分钟没有操作，为安全起见请重新登录"
        return None
    if now - logged_in_at >= OTHERS_ABSOLUTE:
        return "登录已过期，请重新登录"
    return None
