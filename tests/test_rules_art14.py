"""Art. 14 response times: the reading of the 6-hour rule, and properties of the response-time function
across weekends, holidays and 调休 make-up days (qzt.rules.calendar, no app)."""

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from qzt.rules.calendar import (
    BEIJING,
    DAY_OFF_REPLY,
    DAYTIME_END,
    DAYTIME_START,
    WORKING_DAY_REPLY,
    WorkCalendar,
)

CAL = WorkCalendar()


def bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def test_art14_day_off_question_at_saturday_15_is_due_at_21():
    # "非工作日白天时段产生的离线咨询回复时间不超过6个小时": the question arises in the day off's daytime;
    # the 6 hours are plain hours, so the reply is due the same evening.
    assert CAL.reply_deadline(bj("2026-03-14 15:00")) == bj("2026-03-14 21:00")
    assert CAL.response_time(bj("2026-03-14 15:00"), bj("2026-03-14 21:00")) == DAY_OFF_REPLY


def test_art14_day_off_edges_of_daytime():
    # The last minute of daytime on a day off: due before midnight.
    assert CAL.reply_deadline(bj("2026-03-14 17:59")) == bj("2026-03-14 23:59")
    # 18:00 is night: the clock starts at 08:00 on Sunday, also a day off.
    assert CAL.reply_deadline(bj("2026-03-14 18:00")) == bj("2026-03-15 14:00")
    # Sunday afternoon: due Sunday evening, not carried into Monday's working hours.
    assert CAL.reply_deadline(bj("2026-03-15 16:00")) == bj("2026-03-15 22:00")


def test_art14_working_day_edges_of_daytime():
    # 08:00 on a working day starts the clock at once; 17:59 carries into the next working morning.
    assert CAL.reply_deadline(bj("2026-03-10 08:00")) == bj("2026-03-10 10:00")
    assert CAL.reply_deadline(bj("2026-03-10 17:59")) == bj("2026-03-11 09:59")
    assert CAL.response_time(bj("2026-03-10 17:59"), bj("2026-03-11 09:59")) == WORKING_DAY_REPLY


def test_art14_response_time_counts_working_day_daytime_only():
    # Asked Friday 17:00, answered Monday 09:00: one hour Friday, one hour Monday.
    assert CAL.response_time(bj("2026-03-13 17:00"), bj("2026-03-16 09:00")) == timedelta(hours=2)
    # Answered in the night between: only Friday's last hour counts.
    assert CAL.response_time(bj("2026-03-13 17:00"), bj("2026-03-13 23:00")) == timedelta(hours=1)


def test_art14_night_question_answered_before_morning_took_no_time():
    assert CAL.response_time(bj("2026-03-10 22:00"), bj("2026-03-10 23:00")) == timedelta()
    assert CAL.response_time(bj("2026-03-10 22:00"), bj("2026-03-11 08:30")) == timedelta(minutes=30)


def test_art14_makeup_saturday_counts_as_a_working_day():
    # 2026-02-14 is a 调休 working Saturday: 2 hours of working-day daytime, not 6 plain hours.
    assert CAL.allowance(bj("2026-02-14 10:00")) == WORKING_DAY_REPLY
    assert CAL.response_time(bj("2026-02-14 17:00"), bj("2026-02-24 09:00")) == timedelta(hours=2)


asked_times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(BEIJING)
)
delays = st.timedeltas(min_value=timedelta(), max_value=timedelta(days=20))


@given(asked=asked_times, first=delays, extra=delays)
def test_art14_response_time_is_never_negative_and_grows_with_the_reply_time(asked, first, extra):
    earlier = CAL.response_time(asked, asked + first)
    later = CAL.response_time(asked, asked + first + extra)
    assert timedelta() <= earlier <= later


@given(asked=asked_times)
def test_art14_a_reply_at_the_moment_of_asking_took_no_time(asked):
    assert CAL.response_time(asked, asked) == timedelta()


@given(asked=asked_times)
def test_art14_the_deadline_is_where_the_response_time_reaches_the_allowance(asked):
    due = CAL.reply_deadline(asked)
    allowance = CAL.allowance(asked)
    assert allowance in (WORKING_DAY_REPLY, DAY_OFF_REPLY)
    assert CAL.response_time(asked, due) == allowance
    assert CAL.response_time(asked, due - timedelta(seconds=1)) < allowance
    if allowance == WORKING_DAY_REPLY:
        assert CAL.is_working_day(due.date()) and DAYTIME_START < due.time() <= DAYTIME_END
