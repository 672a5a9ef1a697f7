"""Brute force (qzt.rules.lockout), without an app: 5 failures in 15 minutes lock for 15 minutes."""

from datetime import UTC, datetime, timedelta

from qzt.rules import lockout

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def fail(times: int, start=T0, every=timedelta(minutes=1), attempts=None):
    attempts = attempts or lockout.Attempts()
    for n in range(times):
        attempts = lockout.after_failure(attempts, start + n * every)
    return attempts


def test_login_locks_after_five_failures_within_fifteen_minutes():
    assert not lockout.is_locked(fail(4), T0 + timedelta(minutes=4))
    locked = fail(5)
    assert locked.locked_until == T0 + timedelta(minutes=4 + 15)
    assert lockout.is_locked(locked, T0 + timedelta(minutes=18, seconds=59))
    assert not lockout.is_locked(locked, T0 + timedelta(minutes=19))


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock():
    assert not lockout.is_locked(fail(8, every=timedelta(minutes=4)), T0 + timedelta(minutes=29))


def test_a_success_starts_the_count_again():
    assert fail(4).failures == 4
    again = fail(4, start=T0 + timedelta(minutes=5), attempts=lockout.after_success())
    assert not lockout.is_locked(again, T0 + timedelta(minutes=9)) and again.failures == 4
