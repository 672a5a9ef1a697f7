"""The working-day calendar (Art. 11, 13), reply deadlines (Art. 14) and the stored corrections."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qzt.core.calendar import add_correction, work_calendar
from qzt.extensions import db
from qzt.models import AuditRecord, CalendarCorrection, Role
from qzt.rules.calendar import BEIJING, DAYTIME_END, DAYTIME_START, WorkCalendar

CAL = WorkCalendar()  # built once: hypothesis calls it thousands of times


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(first: str, last: str) -> list[date]:
    start, end = d(first), d(last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def bj(text: str) -> datetime:
    """A Beijing wall-clock time, e.g. bj("2026-02-13 17:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


# 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号, 4 November 2025).
NOTICE_2026_DAYS_OFF = [
    *days("2026-01-01", "2026-01-03"),  # 元旦
    *days("2026-02-15", "2026-02-23"),  # 春节
    *days("2026-04-04", "2026-04-06"),  # 清明节
    *days("2026-05-01", "2026-05-05"),  # 劳动节
    *days("2026-06-19", "2026-06-21"),  # 端午节
    *days("2026-09-25", "2026-09-27"),  # 中秋节
    *days("2026-10-01", "2026-10-07"),  # 国庆节
]
NOTICE_2026_MAKEUP_DAYS = [
    d("2026-01-04"),
    d("2026-02-14"),
    d("2026-02-28"),
    d("2026-05-09"),
    d("2026-09-20"),
    d("2026-10-10"),
]


# --- The 2026 schedule ---------------------------------------------------------------------------------


def test_every_day_of_2026_follows_the_state_council_notice():
    for day in days("2026-01-01", "2026-12-31"):
        expected = day in NOTICE_2026_MAKEUP_DAYS or (day.weekday() < 5 and day not in NOTICE_2026_DAYS_OFF)
        assert CAL.is_working_day(day) is expected, day


def test_spring_festival_2026_nine_days_off_between_two_makeup_saturdays():
    assert [CAL.is_working_day(day) for day in days("2026-02-13", "2026-02-24")] == [
        True,  # Fri 13
        True,  # Sat 14: 上班
        *[False] * 9,  # Sun 15 (腊月二十八) to Mon 23 (正月初七)
        True,  # Tue 24
    ]
    assert d("2026-02-28").weekday() == 5
    assert CAL.is_working_day(d("2026-02-28"))  # Saturday: 上班
    assert not CAL.is_working_day(d("2026-03-01"))  # the Sunday after stays off


def test_national_day_2026_seven_days_off_with_makeup_sunday_and_saturday():
    assert d("2026-09-20").weekday() == 6 and CAL.is_working_day(d("2026-09-20"))  # Sunday: 上班
    assert not CAL.is_working_day(d("2026-09-19"))  # the Saturday before stays off
    assert not any(CAL.is_working_day(day) for day in days("2026-10-01", "2026-10-07"))
    assert CAL.is_working_day(d("2026-10-08")) and CAL.is_working_day(d("2026-10-09"))
    assert d("2026-10-10").weekday() == 5 and CAL.is_working_day(d("2026-10-10"))  # Saturday: 上班
    assert not CAL.is_working_day(d("2026-10-11"))


def test_half_day_holidays_are_working_days():
    # 妇女节, 青年节 and 儿童节 give some groups half a day; the calendar is everyone's.
    assert CAL.is_working_day(d("2023-03-08"))  # 妇女节, a Wednesday
    assert CAL.is_working_day(d("2023-05-04"))  # 青年节, a Thursday after the Labour Day break
    assert CAL.is_working_day(d("2026-06-01"))  # 儿童节, a Monday


# --- Deadlines in working days (Art. 11, 13) -------------------------------------------------------------


def test_art11_deadline_spans_holiday_and_makeup_saturday():
    # Wed 11 Feb + 5: Thu 12, Fri 13, Sat 14 (上班), [15–23 春节], Tue 24, Wed 25.
    assert CAL.add_working_days(d("2026-02-11"), 5) == d("2026-02-25")
    assert CAL.working_days_between(d("2026-02-11"), d("2026-02-25")) == 5


def test_art13_five_working_days_after_listing_across_national_day():
    # Listed Wed 30 Sep: Thu 8, Fri 9, Sat 10 (上班), [Sun 11], Mon 12, Tue 13 October.
    assert CAL.add_working_days(d("2026-09-30"), 5) == d("2026-10-13")


def test_add_working_days_from_a_day_off_counts_from_the_next_working_day():
    assert CAL.add_working_days(d("2026-10-03"), 1) == d("2026-10-08")
    assert CAL.add_working_days(d("2026-02-21"), 2) == d("2026-02-25")


def test_add_zero_working_days_is_the_start_itself():
    assert CAL.add_working_days(d("2026-10-03"), 0) == d("2026-10-03")


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        CAL.add_working_days(d("2026-10-03"), -1)


def test_working_days_between_counts_after_start_up_to_end():
    assert CAL.working_days_between(d("2026-03-02"), d("2026-03-06")) == 4  # Mon → Fri
    assert CAL.working_days_between(d("2026-03-02"), d("2026-03-02")) == 0
    assert CAL.working_days_between(d("2026-03-06"), d("2026-03-02")) == 0
    assert CAL.working_days_between(d("2026-09-30"), d("2026-10-07")) == 0  # all of National Day
    assert CAL.working_days_between(d("2026-12-31"), d("2027-01-04")) == 1  # Fri 1 Jan 2027 is off


# --- Which years the package knows, and corrections ------------------------------------------------------


@pytest.mark.parametrize("year", [2001, 2008, 2020, 2025, 2026])
def test_years_with_a_state_council_notice_are_known(year):
    assert CAL.knows_year(year)


@pytest.mark.parametrize("year", [1999, 2000, 2030, 2099])
def test_years_without_a_notice_are_not_known(year):
    assert not CAL.knows_year(year)


def test_2027_notice_is_not_in_the_installed_package_yet():
    """holidays 0.109 (November 2026) has no 2027 notice: until it has, staff enter 2027's 调休.

    When this fails, the package has learnt 2027: check it against the notice, then turn this test into
    a 2027 schedule test like the 2026 ones above.
    """
    assert not CAL.knows_year(2027)
    # What it does offer for 2027 is a guess: statutory days with in-lieu weekdays, no working weekends.
    assert not any(CAL.is_working_day(day) for day in days("2027-01-01", "2027-12-31") if day.weekday() >= 5)
    assert not CAL.is_working_day(d("2027-01-01"))
    assert not CAL.is_working_day(d("2027-10-01"))


def test_corrections_add_a_working_day_and_a_day_off_in_an_unknown_year():
    saturday, friday = d("2030-02-09"), d("2030-02-08")
    assert not CAL.knows_year(2030)
    assert not CAL.is_working_day(saturday) and CAL.is_working_day(friday)  # the package's guess

    corrected = WorkCalendar({saturday: True, friday: False})

    assert corrected.is_working_day(saturday) and not corrected.is_working_day(friday)
    assert corrected.add_working_days(d("2030-02-07"), 1) == saturday
    assert corrected.working_days_between(d("2030-02-07"), saturday) == 1
    assert not corrected.knows_year(2030)  # knows_year speaks for the package only


def test_a_correction_beats_the_package_in_a_known_year():
    corrected = WorkCalendar({d("2026-10-10"): False, d("2026-10-05"): True})
    assert not corrected.is_working_day(d("2026-10-10"))
    assert corrected.is_working_day(d("2026-10-05"))
    assert CAL.is_working_day(d("2026-10-10"))  # other calendars are untouched


# --- Properties ---------------------------------------------------------------------------------------------

starts = st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31))
counts = st.integers(min_value=0, max_value=250)
correction_days = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))
corrections = st.dictionaries(correction_days, st.booleans(), max_size=20)


@given(start=starts, n=st.integers(min_value=1, max_value=250))
def test_add_working_days_lands_on_a_working_day(start, n):
    assert CAL.is_working_day(CAL.add_working_days(start, n))


@given(start=starts, n=counts)
def test_working_days_between_undoes_add_working_days(start, n):
    assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n


@given(start=starts, n=counts)
def test_add_working_days_is_strictly_increasing_in_n(start, n):
    assert CAL.add_working_days(start, n) < CAL.add_working_days(start, n + 1)


@given(start=starts, length=st.integers(min_value=-10, max_value=400))
def test_working_days_between_counts_each_working_day_once(start, length):
    end = start + timedelta(days=length)
    expected = sum(CAL.is_working_day(start + timedelta(days=i)) for i in range(1, length + 1))
    assert CAL.working_days_between(start, end) == expected


@settings(max_examples=50)
@given(fixes=corrections, start=st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 12, 31)), n=counts)
def test_properties_hold_with_corrections(fixes, start, n):
    cal = WorkCalendar(fixes)
    for day, working in fixes.items():
        assert cal.is_working_day(day) is working
    end = cal.add_working_days(start, n)
    assert cal.working_days_between(start, end) == n
    assert n == 0 or cal.is_working_day(end)


# --- Reply deadlines (Art. 14) ------------------------------------------------------------------------------


def test_art14_working_day_daytime_two_hours():
    assert CAL.reply_deadline(bj("2026-03-10 10:00")) == bj("2026-03-10 12:00")  # Tuesday
    assert CAL.reply_deadline(bj("2026-03-10 16:00")) == bj("2026-03-10 18:00")
    assert CAL.reply_deadline(bj("2026-03-10 08:00")) == bj("2026-03-10 10:00")


def test_art14_friday_late_afternoon_rolls_to_next_working_day():
    assert CAL.reply_deadline(bj("2026-03-13 17:00")) == bj("2026-03-16 09:00")
    assert CAL.reply_deadline(bj("2026-03-13 17:59:30")) == bj("2026-03-16 09:59:30")


def test_art14_friday_before_national_day_rolls_past_the_holiday():
    assert CAL.reply_deadline(bj("2026-09-30 17:30")) == bj("2026-10-08 09:30")


def test_art14_makeup_saturday_is_a_working_day():
    assert CAL.reply_deadline(bj("2026-02-14 10:00")) == bj("2026-02-14 12:00")  # 2 hours, not 6
    # Friday before it rolls onto the Saturday; the Saturday rolls over the whole Spring Festival.
    assert CAL.reply_deadline(bj("2026-02-13 17:00")) == bj("2026-02-14 09:00")
    assert CAL.reply_deadline(bj("2026-02-14 17:00")) == bj("2026-02-24 09:00")


def test_art14_non_working_day_daytime_six_hours():
    assert CAL.reply_deadline(bj("2026-03-14 09:00")) == bj("2026-03-14 15:00")  # Saturday
    assert CAL.reply_deadline(bj("2026-10-01 12:00")) == bj("2026-10-01 18:00")  # National Day, a Thursday


def test_art14_non_working_day_afternoon_is_due_the_same_evening():
    # Issue 9 settled the reading: the 6 hours of a day off are plain hours (they were daytime hours, which
    # carried Saturday 15:00 to Sunday 11:00). See WorkCalendar.reply_deadline.
    assert CAL.reply_deadline(bj("2026-03-14 15:00")) == bj("2026-03-14 21:00")
    # Sunday 16:00 is due Sunday 22:00, not carried into Monday's working hours.
    assert CAL.reply_deadline(bj("2026-03-15 16:00")) == bj("2026-03-15 22:00")


def test_art14_night_starts_the_clock_next_morning():
    assert CAL.reply_deadline(bj("2026-03-10 22:00")) == bj("2026-03-11 10:00")  # Tue night → Wed
    assert CAL.reply_deadline(bj("2026-03-10 06:30")) == bj("2026-03-10 10:00")  # before 08:00
    assert CAL.reply_deadline(bj("2026-03-10 18:00")) == bj("2026-03-11 10:00")  # 18:00 is night
    assert CAL.reply_deadline(bj("2026-03-13 20:00")) == bj("2026-03-14 14:00")  # Fri night → Sat, 6 h
    assert CAL.reply_deadline(bj("2026-02-13 23:00")) == bj("2026-02-14 10:00")  # → make-up Saturday


def test_art14_deadline_is_in_beijing_time_whatever_the_zone_asked_in():
    asked = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    due = CAL.reply_deadline(asked)
    assert due == bj("2026-03-10 12:00")
    assert due.utcoffset() == timedelta(hours=8)
    # 11:00 UTC on Friday is 19:00 in Beijing: night, so the clock starts on Saturday morning.
    assert CAL.reply_deadline(datetime(2026, 3, 13, 11, 0, tzinfo=UTC)) == bj("2026-03-14 14:00")


def test_art14_naive_times_are_refused():
    with pytest.raises(ValueError):
        CAL.reply_deadline(datetime(2026, 3, 10, 10, 0))


def test_art14_corrections_change_the_allowance():
    # A weekday made a day off gets 6 hours; a Sunday made a working day gets 2.
    corrected = WorkCalendar({d("2030-02-08"): False, d("2030-02-10"): True})
    assert corrected.reply_deadline(bj("2030-02-08 09:00")) == bj("2030-02-08 15:00")
    assert corrected.reply_deadline(bj("2030-02-10 09:00")) == bj("2030-02-10 11:00")


def _daytime_hours_spent(start: datetime, end: datetime, counts) -> timedelta:
    """Daytime between start and end on the days `counts` accepts: the clock, measured independently."""
    spent, day = timedelta(), start.date()
    while day <= end.date():
        if counts(day):
            opens = max(start, datetime.combine(day, DAYTIME_START, BEIJING))
            closes = min(end, datetime.combine(day, DAYTIME_END, BEIJING))
            spent += max(closes - opens, timedelta())
        day += timedelta(days=1)
    return spent


asked_times = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 1), timezones=st.just(BEIJING)
)


@given(asked=asked_times)
def test_art14_deadline_spends_exactly_the_allowance(asked):
    """Working day: 2 hours of working-day daytime; day off: 6 plain hours from the clock's start."""
    due = CAL.reply_deadline(asked)
    assert due > asked
    if DAYTIME_START <= asked.time() < DAYTIME_END:
        start = asked
    else:
        day = asked.date() + timedelta(days=asked.time() >= DAYTIME_END)
        start = datetime.combine(day, DAYTIME_START, BEIJING)
    if CAL.is_working_day(start.date()):
        assert DAYTIME_START < due.time() <= DAYTIME_END
        assert CAL.is_working_day(due.date())
        assert _daytime_hours_spent(asked, due, CAL.is_working_day) == timedelta(hours=2)
    else:
        assert due - start == timedelta(hours=6)


@given(asked=asked_times, later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=10)))
def test_art14_later_question_on_same_kind_of_day_is_never_due_earlier(asked, later):
    """Within one kind of starting day, the deadline moves forward with the question."""
    second = asked + later
    if asked.date() == second.date() and DAYTIME_START <= asked.time() and second.time() < DAYTIME_END:
        assert CAL.reply_deadline(asked) <= CAL.reply_deadline(second)


# --- Stored corrections (database) --------------------------------------------------------------------------


def test_work_calendar_without_corrections_is_the_package(app):
    cal = work_calendar()
    assert cal.corrections == {}
    assert cal.is_working_day(d("2026-02-14")) and not cal.is_working_day(d("2026-02-16"))


def test_add_correction_is_used_by_work_calendar(app, make_user):
    staff = make_user(Role.OPERATOR, phone="13900139000")
    correction = add_correction(d("2027-02-20"), True, " 2027年春节调休上班 ", staff, ip="10.0.0.1")
    db.session.commit()

    assert correction.id is not None
    assert (correction.day, correction.working) == (d("2027-02-20"), True)
    assert correction.note == "2027年春节调休上班"
    assert correction.created_by_id == staff.id
    cal = work_calendar()
    assert cal.corrections == {d("2027-02-20"): True}
    assert cal.is_working_day(d("2027-02-20"))  # a Saturday
    record = db.session.scalar(db.select(AuditRecord))
    assert (record.action, record.actor_id, record.ip) == ("calendar_correction", staff.id, "10.0.0.1")
    assert record.before is None
    assert record.after == {"day": "2027-02-20", "working": True, "note": "2027年春节调休上班"}


def test_add_correction_replaces_the_one_for_the_same_day(app, make_user):
    first = make_user(Role.OPERATOR, phone="13900139000")
    second = make_user(Role.AUTHORITY, phone="13900139001")
    add_correction(d("2027-02-22"), True, "录入错误", first)
    db.session.commit()

    replaced = add_correction(d("2027-02-22"), False, "按国务院通知更正", second)
    db.session.commit()

    rows = db.session.scalars(db.select(CalendarCorrection)).all()
    assert rows == [replaced]
    assert (replaced.working, replaced.note, replaced.created_by_id) == (False, "按国务院通知更正", second.id)
    assert work_calendar().corrections == {d("2027-02-22"): False}
    records = db.session.scalars(db.select(AuditRecord).order_by(AuditRecord.id)).all()
    assert [r.before for r in records] == [None, {"day": "2027-02-22", "working": True, "note": "录入错误"}]


def test_add_correction_refuses_an_overlong_note(app, make_user):
    staff = make_user(Role.OPERATOR, phone="13900139000")
    with pytest.raises(ValueError):
        add_correction(d("2027-02-22"), True, "说" * 201, staff)
    assert db.session.scalars(db.select(CalendarCorrection)).all() == []


def test_deadlines_follow_stored_corrections(app, make_user):
    staff = make_user(Role.OPERATOR, phone="13900139000")
    for day in days("2030-02-04", "2030-02-08"):
        add_correction(day, False, "春节", staff)
    add_correction(d("2030-02-09"), True, "调休上班", staff)
    db.session.commit()

    cal = work_calendar()
    assert cal.add_working_days(d("2030-02-01"), 1) == d("2030-02-09")
    assert cal.reply_deadline(bj("2030-02-01 17:00")) == bj("2030-02-09 09:00")
