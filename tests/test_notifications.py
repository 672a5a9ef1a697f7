"""The notice outbox: written with its cause, sent by tick once and only once, retried with backoff, and
the Alibaba Cloud backend against a local stand-in for the provider's endpoint."""

import json
import os
import socket
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from servers import OK_REPLY, SmsProvider

from qzt.core import clock, notifications
from qzt.core.notifications import BACKOFF, MAX_ATTEMPTS, STUCK_AFTER, notify, tick
from qzt.core.sms import (
    AliyunBackend,
    LogBackend,
    SmsConfigError,
    SmsError,
    backend_from_config,
    template_setting,
)
from qzt.extensions import db
from qzt.models import DeliveryState, Notification, Role


@pytest.fixture(autouse=True)
def _no_sms_environment(monkeypatch):
    """The developer's own SMS settings must not leak into the tests."""
    for name in list(os.environ):
        if name.startswith(("QZT_SMS_", "ALIBABA_CLOUD_")):
            monkeypatch.delenv(name)


class FlakyBackend(LogBackend):
    """Fails the first `failures` attempts (all of them with failures=None), then sends."""

    def __init__(self, failures: int | None = None):
        super().__init__()
        self.failures = failures
        self.calls = 0

    def send(self, **message) -> None:
        self.calls += 1
        if self.failures is None or self.calls <= self.failures:
            raise SmsError("isp.SYSTEM_ERROR 运营商系统错误")
        super().send(**message)


def _notice(user, n: int = 1, **kw) -> Notification:
    return notify(user, kw.pop("kind", "review-result"), f"审核结果{n}", f"您的入驻申请已审核（{n}）", **kw)


def _count(*where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(*where))


def _reload(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


# --- written with its cause ------------------------------------------------------------------------------


def test_notice_is_rolled_back_with_the_change_that_caused_it(app, make_user):
    user = make_user()
    user.name = "佛山市某某检测有限公司"
    notice = _notice(user)
    assert notice.id is not None and notice.state == DeliveryState.PENDING and notice.phone == user.phone
    db.session.rollback()
    assert _count() == 0
    assert user.name == "测试用户"

    user.name = "佛山市某某检测有限公司"
    _notice(user, sms_params={"name": "张三"})
    db.session.commit()
    stored = db.session.scalars(sa.select(Notification)).one()
    assert (stored.user_id, stored.sms_params, stored.attempts) == (user.id, {"name": "张三"}, 0)


def test_dedupe_key_adds_a_notice_once(app, make_user):
    user = make_user()
    key = "deadline-near:application:7:2026-12-01"
    first = _notice(user, dedupe_key=key)
    assert first is not None
    assert _notice(user, 2, dedupe_key=key) is None  # same transaction, not yet committed
    db.session.commit()
    assert _notice(user, 3, dedupe_key=key) is None  # a later transaction
    assert _notice(user, 4) is not None and _notice(user, 5) is not None  # no key: no limit
    db.session.commit()
    assert _count(Notification.dedupe_key == key) == 1
    assert _count() == 3


def test_unique_constraint_is_the_backstop_for_dedupe(app, make_user):
    user = make_user()
    _notice(user, dedupe_key="k")
    db.session.commit()
    # What a concurrent transaction that slipped past notify's check would do.
    db.session.add(Notification(user=user, kind="x", title="t", body="b", phone=user.phone, dedupe_key="k"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert _count() == 1


# --- tick ------------------------------------------------------------------------------------------------


def test_tick_sends_due_notices_only(app, make_user):
    user = make_user()
    due = _notice(user, 1, sms_params={"result": "通过"})
    later = _notice(user, 2)
    now = clock.now() + timedelta(seconds=1)
    later.next_attempt_at = now + timedelta(minutes=3)
    db.session.commit()
    due_id, later_id = due.id, later.id

    backend = LogBackend()
    assert tick(backend, now=now) == notifications.TickResult(sent=1)
    assert [(s.phone, s.kind, s.params, s.out_id) for s in backend.sent] == [
        ("13800138000", "review-result", {"result": "通过"}, str(due_id))
    ]
    sent = _reload(due_id)
    assert sent.state == DeliveryState.SENT and sent.sent_at == now
    assert _reload(later_id).state == DeliveryState.PENDING

    assert tick(backend, now=now + timedelta(minutes=3)).sent == 1
    assert [s.out_id for s in backend.sent] == [str(due_id), str(later_id)]


def test_tick_twice_sends_nothing_twice(app, make_user):
    user = make_user()
    for n in range(3):
        _notice(user, n)
    db.session.commit()
    backend = LogBackend()
    now = clock.now() + timedelta(seconds=1)
    assert tick(backend, now=now).sent == 3
    assert tick(backend, now=now).sent == 0
    assert tick(backend, now=now + timedelta(days=1)).sent == 0
    assert len(backend.sent) == 3


def test_tick_sends_at_most_a_batch_oldest_first(app, make_user):
    user = make_user()
    ids = [_notice(user, n).id for n in range(5)]
    db.session.commit()
    backend = LogBackend()
    now = clock.now() + timedelta(seconds=1)
    assert tick(backend, now=now, batch=2).sent == 2
    assert tick(backend, now=now, batch=2).sent == 2
    assert tick(backend, now=now, batch=2).sent == 1
    assert [s.out_id for s in backend.sent] == [str(i) for i in ids]


def test_two_ticks_claiming_the_same_notices_send_each_once(app, make_user, monkeypatch):
    user = make_user()
    ids = {_notice(user, n).id for n in range(6)}
    db.session.commit()
    now = clock.now() + timedelta(seconds=1)

    # Both ticks pick the same due rows before either claims one; only the claim keeps them apart.
    picked = []
    barrier = threading.Barrier(2, timeout=30)
    due_ids = notifications._due_ids

    def due_ids_then_wait(now, batch):
        ids = due_ids(now, batch)
        picked.append(ids)
        barrier.wait()
        return ids

    monkeypatch.setattr(notifications, "_due_ids", due_ids_then_wait)

    class SlowBackend(LogBackend):
        def send(self, **message):
            time.sleep(0.02)  # let the other tick try to claim meanwhile
            super().send(**message)

    backend = SlowBackend()
    results, errors = [], []

    def run():
        try:
            with app.app_context():
                results.append(tick(backend, now=now))
        except Exception as e:  # reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert [set(p) for p in picked] == [ids, ids]
    assert sorted(int(s.out_id) for s in backend.sent) == sorted(ids)
    assert sum(r.sent for r in results) == len(ids)
    assert _count(Notification.state == DeliveryState.SENT) == len(ids)


def test_provider_down_is_retried_later_with_backoff(app, make_user):
    user = make_user()
    notice_id = _notice(user).id
    db.session.commit()
    backend = FlakyBackend(failures=2)
    t0 = clock.now() + timedelta(seconds=1)

    assert tick(backend, now=t0) == notifications.TickResult(retried=1)
    notice = _reload(notice_id)
    assert notice.state == DeliveryState.PENDING and notice.attempts == 1
    assert notice.next_attempt_at == t0 + BACKOFF[0]
    assert "isp.SYSTEM_ERROR" in notice.last_error

    assert tick(backend, now=t0 + BACKOFF[0] - timedelta(seconds=1)) == notifications.TickResult()
    assert backend.calls == 1  # not due yet: not tried

    t1 = t0 + BACKOFF[0]
    assert tick(backend, now=t1).retried == 1
    assert _reload(notice_id).next_attempt_at == t1 + BACKOFF[1]

    t2 = t1 + BACKOFF[1]
    assert tick(backend, now=t2) == notifications.TickResult(sent=1)
    notice = _reload(notice_id)
    assert notice.state == DeliveryState.SENT and notice.sent_at == t2 and notice.last_error == ""
    assert tick(backend, now=t2 + timedelta(days=1)) == notifications.TickResult()
    assert backend.calls == 3 and len(backend.sent) == 1


def test_gives_up_after_the_last_attempt(app, make_user):
    user = make_user()
    notice_id = _notice(user).id
    other_id = _notice(user, 2).id
    db.session.commit()
    backend = FlakyBackend()
    now = clock.now() + timedelta(seconds=1)
    for attempt in range(1, MAX_ATTEMPTS):
        assert tick(backend, now=now, batch=1).retried == 1
        notice = _reload(notice_id)
        assert (notice.state, notice.attempts) == (DeliveryState.PENDING, attempt)
        # the other notice is due meanwhile too; keep it out of the way
        db.session.execute(
            sa.update(Notification)
            .where(Notification.id == other_id)
            .values(next_attempt_at=now + timedelta(days=7))
        )
        db.session.commit()
        now = notice.next_attempt_at
    assert tick(backend, now=now, batch=1) == notifications.TickResult(failed=1)
    notice = _reload(notice_id)
    assert (notice.state, notice.attempts) == (DeliveryState.FAILED, MAX_ATTEMPTS)
    assert backend.calls == MAX_ATTEMPTS
    assert tick(LogBackend(), now=now + timedelta(days=30)).sent == 1  # the other one; the failed stays
    assert _reload(notice_id).state == DeliveryState.FAILED


def test_backend_bug_counts_as_a_failed_attempt(app, make_user):
    user = make_user()
    notice_id = _notice(user).id
    db.session.commit()

    class Broken:
        def send(self, **message):
            raise KeyError("template")

    assert tick(Broken(), now=clock.now() + timedelta(seconds=1)).retried == 1
    notice = _reload(notice_id)
    assert notice.state == DeliveryState.PENDING and notice.last_error.startswith("KeyError")


def test_stuck_notices_are_reported_not_resent(app, make_user):
    user = make_user()
    crashed, busy = _notice(user, 1), _notice(user, 2)
    now = clock.now() + timedelta(seconds=1)
    crashed.state = busy.state = DeliveryState.SENDING
    crashed.claimed_at = now - STUCK_AFTER - timedelta(minutes=1)
    busy.claimed_at = now - timedelta(minutes=2)  # a tick still working on it
    db.session.commit()
    crashed_id, busy_id = crashed.id, busy.id

    backend = LogBackend()
    assert tick(backend, now=now) == notifications.TickResult(stuck=(crashed_id,))
    assert backend.sent == []
    assert [n.id for n in notifications.stuck(now)] == [crashed_id]
    assert _reload(crashed_id).state == DeliveryState.SENDING

    # Staff checked with the provider: it never arrived, so send it again.
    notifications.resolve_stuck(_reload(crashed_id), resend=True, now=now)
    db.session.commit()
    assert tick(backend, now=now) == notifications.TickResult(sent=1)
    assert [s.out_id for s in backend.sent] == [str(crashed_id)]

    later = now + STUCK_AFTER
    assert tick(backend, now=later).stuck == (busy_id,)
    notifications.resolve_stuck(_reload(busy_id), resend=False, now=later)  # it had arrived
    db.session.commit()
    assert _reload(busy_id).state == DeliveryState.SENT
    assert tick(backend, now=later) == notifications.TickResult()
    with pytest.raises(ValueError):
        notifications.resolve_stuck(_reload(busy_id), resend=True)


# --- the site's notice list ------------------------------------------------------------------------------


def test_notice_list_unread_and_mark_read(app, make_user):
    user = make_user()
    other = make_user(Role.INSTITUTION, phone="13900139000")
    first, second = _notice(user, 1), _notice(user, 2)
    _notice(other, 3)
    db.session.commit()
    assert [n.id for n in notifications.for_user(user)] == [second.id, first.id]
    assert [n.id for n in notifications.unread_for(user)] == [second.id, first.id]

    notifications.mark_read(first, user)
    db.session.commit()
    assert [n.id for n in notifications.unread_for(user)] == [second.id]
    assert len(notifications.for_user(user)) == 2
    read_at = _reload(first.id).read_at
    notifications.mark_read(_reload(first.id), user)  # again: keeps the first reading time
    assert _reload(first.id).read_at == read_at

    with pytest.raises(PermissionError):
        notifications.mark_read(second, other)
    assert len(notifications.unread_for(other)) == 1


# --- SMS backends ----------------------------------------------------------------------------------------


def test_backend_from_config():
    assert isinstance(backend_from_config({}), LogBackend)
    assert isinstance(backend_from_config({"QZT_SMS_BACKEND": "LOG"}), LogBackend)
    with pytest.raises(SmsConfigError, match="log or aliyun"):
        backend_from_config({"QZT_SMS_BACKEND": "carrier-pigeon"})
    with pytest.raises(SmsConfigError, match="ALIBABA_CLOUD_ACCESS_KEY_SECRET, QZT_SMS_SIGN_NAME"):
        backend_from_config({"QZT_SMS_BACKEND": "aliyun", "ALIBABA_CLOUD_ACCESS_KEY_ID": "id"})


def test_aliyun_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("QZT_SMS_BACKEND", "aliyun")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
    monkeypatch.setenv("QZT_SMS_SIGN_NAME", "佛山企质通")
    monkeypatch.setenv("QZT_SMS_TEMPLATE_DEADLINE_NEAR", "SMS_100")
    backend = backend_from_config({"QZT_SMS_TEMPLATE_REVIEW_RESULT": "SMS_200"})
    assert isinstance(backend, AliyunBackend)
    assert backend.sign_name == "佛山企质通"
    assert backend.templates == {
        "QZT_SMS_TEMPLATE_DEADLINE_NEAR": "SMS_100",
        "QZT_SMS_TEMPLATE_REVIEW_RESULT": "SMS_200",
    }
    assert template_setting("deadline-near") == "QZT_SMS_TEMPLATE_DEADLINE_NEAR"
    assert template_setting("review.result") == "QZT_SMS_TEMPLATE_REVIEW_RESULT"


@pytest.fixture
def provider(monkeypatch):
    """A real HTTP server on 127.0.0.1 standing in for the SMS endpoint; `replies` queues (status, body)."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SmsProvider() as server:
        yield server


def _aliyun(endpoint: str) -> AliyunBackend:
    return AliyunBackend(
        access_key_id="test-key-id",
        access_key_secret="test-key-secret",
        sign_name="佛山企质通",
        templates={"QZT_SMS_TEMPLATE_REVIEW_RESULT": "SMS_123456789"},
        endpoint=endpoint,
        protocol="http",
        connect_timeout_ms=2_000,
        read_timeout_ms=5_000,
    )


def test_aliyun_backend_sends_sendsms(provider):
    backend = _aliyun(provider.endpoint)
    backend.send(
        phone="13800138000",
        kind="review-result",
        title="审核结果",
        body="您的申请已通过",
        params={"name": "佛山市测试检测有限公司", "result": "通过"},
        out_id="42",
    )
    [request] = provider.received
    fields = request["fields"]
    assert fields["PhoneNumbers"] == "13800138000"
    assert fields["SignName"] == "佛山企质通"
    assert fields["TemplateCode"] == "SMS_123456789"
    assert json.loads(fields["TemplateParam"]) == {"name": "佛山市测试检测有限公司", "result": "通过"}
    assert fields["OutId"] == "42"
    headers = request["headers"]
    assert (headers["x-acs-action"], headers["x-acs-version"]) == ("SendSms", "2017-05-25")
    assert headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=test-key-id,")


def test_aliyun_backend_raises_on_error_code(provider):
    backend = _aliyun(provider.endpoint)
    message = dict(phone="13800138000", kind="review-result", title="t", body="b", params={}, out_id="7")
    provider.replies.append(
        (
            200,
            {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5", "RequestId": "A1B2"},
        )
    )
    with pytest.raises(SmsError, match="isv.BUSINESS_LIMIT_CONTROL"):
        backend.send(**message)
    provider.replies.append((500, {"Code": "InternalError", "Message": "系统繁忙", "RequestId": "C3"}))
    with pytest.raises(SmsError, match="InternalError"):
        backend.send(**message)
    backend.send(**message)  # the provider is back
    assert len(provider.received) == 3
    with pytest.raises(SmsError, match="no SMS template.*QZT_SMS_TEMPLATE_ACCOUNT_LOCKED"):
        backend.send(**{**message, "kind": "account-locked"})
    assert len(provider.received) == 3


def test_aliyun_backend_raises_when_unreachable():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = _aliyun(f"127.0.0.1:{port}")
    with pytest.raises(SmsError, match="SendSms failed"):
        backend.send(phone="13800138000", kind="review-result", title="t", body="b", params={}, out_id="1")


def test_tick_through_aliyun_backend(app, make_user, provider):
    app.config.update(
        QZT_SMS_BACKEND="aliyun",
        ALIBABA_CLOUD_ACCESS_KEY_ID="test-key-id",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET="test-key-secret",
        QZT_SMS_SIGN_NAME="佛山企质通",
        QZT_SMS_TEMPLATE_REVIEW_RESULT="SMS_123456789",
        QZT_SMS_ENDPOINT=provider.endpoint,
        QZT_SMS_PROTOCOL="http",
    )
    user = make_user()
    first = _notice(user, 1, sms_params={"result": "通过"})
    second = _notice(user, 2, sms_params={"result": "退回"})
    db.session.commit()
    first_id, second_id = first.id, second.id
    refused = {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "D4"}
    provider.replies.extend([(200, OK_REPLY), (200, refused)])
    now = clock.now() + timedelta(seconds=1)
    assert tick(backend_from_config(app.config), now=now) == notifications.TickResult(sent=1, retried=1)
    assert [r["fields"]["OutId"] for r in provider.received] == [str(first_id), str(second_id)]
    assert _reload(first_id).state == DeliveryState.SENT
    assert "isv.MOBILE_NUMBER_ILLEGAL" in _reload(second_id).last_error

    assert tick(backend_from_config(app.config), now=now + BACKOFF[0]) == notifications.TickResult(sent=1)
    out_ids = [int(r["fields"]["OutId"]) for r in provider.received]
    assert out_ids == [first_id, second_id, second_id]


# --- flask qzt tick --------------------------------------------------------------------------------------


def test_cli_tick(app, runner, make_user):
    user = make_user()
    sent_id = _notice(user, 1).id
    stuck = _notice(user, 2, kind="deadline-near")
    stuck.state = DeliveryState.SENDING
    stuck.claimed_at = clock.now() - STUCK_AFTER - timedelta(minutes=5)
    db.session.commit()
    stuck_id = stuck.id

    result = runner.invoke(args=["qzt", "tick"])
    assert result.exit_code == 0, result.output
    assert "发送1条，失败待重试0条，多次失败已放弃0条" in result.output
    assert f"#{stuck_id}  138****8000  deadline-near  审核结果2" in result.output
    assert _reload(sent_id).state == DeliveryState.SENT
    assert _reload(stuck_id).state == DeliveryState.SENDING

    result = runner.invoke(args=["qzt", "tick"])
    assert result.exit_code == 0 and "发送0条" in result.output


def test_cli_tick_with_incomplete_sms_settings(app, runner):
    app.config["QZT_SMS_BACKEND"] = "aliyun"
    result = runner.invoke(args=["qzt", "tick"])
    assert result.exit_code == 1
    assert "短信设置有误" in result.output and "ALIBABA_CLOUD_ACCESS_KEY_ID" in result.output
