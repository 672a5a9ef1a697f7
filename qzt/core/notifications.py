"""Notices: written to the outbox with the change that causes them, sent by `flask qzt tick`.

`notify` only adds a row to the current transaction, so a notice exists exactly when its cause was
committed. `tick` claims each due row (pending -> sending, committed) before it sends, so two ticks running
at once never send the same row; a failed send goes back to pending with a growing delay, until the last
attempt. A row left in 'sending' by a tick that died may or may not have reached the provider: it is never
resent automatically but reported, for staff to check and resolve.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from qzt.core import audit, clock
from qzt.extensions import db
from qzt.models import DeliveryState, Notification, Role, User, WechatIdentity
from qzt.rules import wechat

# Delay before the 2nd, 3rd, … attempt; after the last of these fails too, the notice is given up.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A send takes seconds; a row claimed this long ago belongs to a tick that crashed.
STUCK_AFTER = timedelta(minutes=10)
ERROR_LENGTH = 1000


@dataclass(frozen=True)
class TickResult:
    sent: int = 0
    retried: int = 0  # failed this time, back to pending for a later attempt
    failed: int = 0  # failed the last attempt: given up
    stuck: tuple[int, ...] = ()  # ids claimed more than STUCK_AFTER ago and never finished


def notify(
    user: User,
    kind: str,
    title: str,
    body: str,
    sms_params: dict | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Add a notice for user to the current transaction; None if its dedupe_key was used already."""
    if dedupe_key is not None:
        taken = db.session.scalar(sa.select(Notification.id).where(Notification.dedupe_key == dedupe_key))
        if taken is not None:
            return None
    # A concurrent transaction that slipped past the check above fails on the unique constraint.
    identity, templates = _wechat_identity(user)
    routes = wechat.channels(
        kind,
        bound=identity is not None,
        choice=identity.notify_by if identity else wechat.NOTIFY_SMS,
        has_template=kind in templates,
    )
    first = None
    for channel in routes:  # the first row is the notice the user reads; the other a copy, same send
        row = _queue(
            user, user.phone, kind, title, body, sms_params, dedupe_key if first is None else None, channel
        )
        if channel == wechat.WECHAT:
            row.openid = identity.openid
        if first is None:
            first = row
        else:
            row.copy_of_id = first.id
    return first


def _wechat_identity(user: User) -> tuple[WechatIdentity | None, dict[str, str]]:
    """The user's bound WeChat and the subscription templates by kind, when WeChat is set up."""
    config = current_app.config
    templates = wechat.parse_templates(config.get("QZT_WECHAT_TEMPLATES"))
    if not (config.get("QZT_WECHAT_APPID") and config.get("QZT_WECHAT_SECRET") and templates):
        return None, {}
    identity = db.session.scalar(sa.select(WechatIdentity).where(WechatIdentity.user_id == user.id))
    return identity, templates


def notify_number(number: str, kind: str, title: str, body: str, sms_params: dict) -> Notification:
    """An SMS to a number that may have no account yet (a verification code); the same outbox."""
    return _queue(None, number, kind, title, body, sms_params)


def _queue(user, phone, kind, title, body, sms_params, dedupe_key=None, channel=wechat.SMS) -> Notification:
    notification = Notification(
        channel=channel,
        user=user,
        kind=kind,
        title=title,
        body=body,
        phone=phone,
        sms_params=dict(sms_params or {}),
        dedupe_key=dedupe_key,
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=clock.now(),
        last_error="",
    )
    db.session.add(notification)
    db.session.flush()
    return notification


def staff(*roles: Role) -> list[User]:
    """The active staff accounts of these roles: who is told of what needs their decision."""
    return list(db.session.scalars(sa.select(User).where(User.role.in_(roles), User.active)))


def notify_all(users, kind: str, title: str, body: str) -> None:
    for user in users:
        notify(user, kind, title, body)


def notify_once(users, kind: str, title: str, body: str, *, key: str, sms_params: dict | None = None) -> int:
    """A reminder to each of `users`, once per `key` and person however often it is asked for (a
    `qzt tick` runs every minute); returns how many were queued now."""
    queued = 0
    for user in users:
        notice = notify(user, kind, title, body, sms_params=sms_params, dedupe_key=f"{key}:{user.id}")
        queued += notice is not None
    return queued


def tick(backend, now: datetime | None = None, batch: int = 50, wechat_backend=None) -> TickResult:
    """Send up to `batch` due notices through backend (SMS) or wechat_backend (qzt.wechat.services
    .SubscriptionSender, `send(openid=…, …)`); commits each claim and each outcome."""
    now = now or clock.now()
    ids = _due_ids(now, batch)
    db.session.commit()
    sent = retried = failed = 0
    for notification_id in ids:
        notification = _claim(notification_id, now)
        if notification is None:
            continue  # another tick got there first
        try:
            if notification.channel == wechat.WECHAT:
                if wechat_backend is None:
                    raise RuntimeError("WeChat is not set up (QZT_WECHAT_APPID, QZT_WECHAT_SECRET)")
                wechat_backend.send(
                    openid=notification.openid,
                    kind=notification.kind,
                    title=notification.title,
                    body=notification.body,
                    created_at=notification.created_at,
                    out_id=str(notification.id),
                )
            else:
                backend.send(
                    phone=notification.phone,
                    kind=notification.kind,
                    title=notification.title,
                    body=notification.body,
                    params=notification.sms_params or {},
                    out_id=str(notification.id),
                )
        except Exception as e:  # SmsError, or a backend bug: either way this attempt did not go out
            current_app.logger.warning(
                "notice #%s not sent (attempt %s): %s", notification.id, notification.attempts + 1, e
            )
            final = isinstance(e, Undeliverable)
            if _record_failure(notification, now, f"{type(e).__name__}: {e}", final=final):
                retried += 1
            else:
                failed += 1
                if notification.channel == wechat.WECHAT:
                    _instead_by_sms(notification, now)
        else:
            notification.state = DeliveryState.SENT
            notification.sent_at = now
            notification.last_error = ""
            sent += 1
        if notification.state in (DeliveryState.SENT, DeliveryState.FAILED):
            _forget_code(notification)
        db.session.commit()
    return TickResult(sent, retried, failed, tuple(n.id for n in stuck(now)))


HIDDEN_CODE = "******"


def _forget_code(notification: Notification) -> None:
    """A one-time code stays in the outbox only until it is sent (or given up): never kept for later."""
    code = (notification.sms_params or {}).get("code")
    if code:
        notification.body = notification.body.replace(str(code), HIDDEN_CODE)
        notification.sms_params = {**notification.sms_params, "code": HIDDEN_CODE}


def _due_ids(now: datetime, batch: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Notification.id)
            .where(Notification.state == DeliveryState.PENDING, Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(batch)
        )
    )


def _claim(notification_id: int, now: datetime) -> Notification | None:
    """pending -> sending for this tick alone, committed before anything is sent."""
    claimed = db.session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id, Notification.state == DeliveryState.PENDING)
        .values(state=DeliveryState.SENDING, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()  # also expires what the session held, so the row is read afresh below
    if claimed != 1:
        return None
    return db.session.get(Notification, notification_id)


class Undeliverable(Exception):
    """The channel will never take this notice (the user declined WeChat notices): no retry."""


def _instead_by_sms(notification: Notification, now: datetime) -> None:
    """A WeChat notice given up goes by SMS, unless it went by SMS as well already."""
    first = notification.copy_of_id or notification.id
    by_sms = db.session.scalar(
        sa.select(Notification.id).where(
            sa.or_(Notification.id == first, Notification.copy_of_id == first),
            Notification.channel == wechat.SMS,
        )
    )
    if by_sms is None:
        copy = _queue(
            notification.user,
            notification.phone,
            notification.kind,
            notification.title,
            notification.body,
            notification.sms_params,
        )
        copy.copy_of_id, copy.next_attempt_at = first, now


def _record_failure(notification: Notification, now: datetime, error: str, final: bool = False) -> bool:
    """Back to pending after a delay, or failed after the last attempt (or a `final` failure); True if it
    will be retried."""
    notification.attempts += 1
    notification.last_error = error[:ERROR_LENGTH]
    if final or notification.attempts >= MAX_ATTEMPTS:
        notification.state = DeliveryState.FAILED
        return False
    notification.state = DeliveryState.PENDING
    notification.next_attempt_at = now + BACKOFF[notification.attempts - 1]
    return True


def stuck(now: datetime | None = None) -> list[Notification]:
    """Notices a tick claimed more than STUCK_AFTER ago and never finished, oldest first: for staff."""
    cutoff = (now or clock.now()) - STUCK_AFTER
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.state == DeliveryState.SENDING, Notification.claimed_at < cutoff)
            .order_by(Notification.claimed_at, Notification.id)
        )
    )


def resolve_stuck(
    notification: Notification,
    *,
    resend: bool,
    by: User | None = None,
    now: datetime | None = None,
    ip: str = "",
) -> None:
    """Staff checked the provider's records: mark a stuck notice sent, or queue it to be sent again;
    audited."""
    if notification.state != DeliveryState.SENDING:
        raise ValueError(f"notice #{notification.id} is {notification.state}, not sending")
    now = now or clock.now()
    if resend:
        notification.state = DeliveryState.PENDING
        notification.next_attempt_at = now
    else:
        notification.state = DeliveryState.SENT
        notification.sent_at = now
    db.session.flush()
    audit.record(by, "resend_notice" if resend else "confirm_notice", notification, ip=ip)


def given_up(limit: int = 100) -> list[Notification]:
    """Notices that failed every attempt, newest first."""
    stmt = (
        sa.select(Notification)
        .where(Notification.state == DeliveryState.FAILED)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def for_user(user: User) -> list[Notification]:
    """All of a user's notices, newest first."""
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id, Notification.copy_of_id.is_(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
        )
    )


def unread_for(user: User) -> list[Notification]:
    """A user's notices not yet read on the site, newest first."""
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.read_at.is_(None),
                Notification.copy_of_id.is_(None),
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
        )
    )


def mark_all_read(user: User) -> None:
    """[全部标为已读]: every unread notice of the user."""
    for notice in unread_for(user):
        mark_read(notice, user)


def mark_read(notification: Notification, user: User) -> None:
    """The user read the notice on the site; only its own recipient can mark it."""
    if notification.user_id != user.id:
        raise PermissionError("not this user's notice")
    if notification.read_at is None:
        notification.read_at = clock.now()
        db.session.flush()
