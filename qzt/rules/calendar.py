"""Working days and reply deadlines: the calendar behind Art. 11, 13 and 14 of the regulation.

Deadlines count working days (工作日): Art. 13 ("正式入驻之日起5个工作日内" complete the homepage), and the
deadlines the review sets under Art. 11 for supplying missing material.
Art. 14 sets customer-service response times: on working days in daytime (8:00–18:00) replies within
2 hours on average; offline consultations in non-working-day daytime within 6 hours. The average is for
the assessment to take; here each consultation gets its own deadline.

A working day follows the State Council's yearly notice (国务院办公厅关于××年部分节假日安排的通知): statutory
holidays, weekdays given off, and weekend days worked instead (调休上班). The `holidays` package transcribes
each notice. It has no category for the make-up working days: it records them as the date a substituted
day off was moved from ("休息日（由 2026-02-14 调休）", in `ChinaStaticHolidays.special_public_holidays`)
and answers `is_working_day` from them. Staff corrections override the package, for a year whose notice
the package does not carry yet or for a day it gets wrong.
"""

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone

import holidays
from holidays.countries.china import ChinaStaticHolidays

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def day_start(day: date) -> datetime:
    """The start of a Beijing calendar day, as an aware moment (for "on or after this day" queries)."""
    return datetime.combine(day, time(), BEIJING)


def to_beijing(moment: datetime) -> datetime:
    """An aware moment in Beijing time (what every page, PDF and message shows)."""
    return moment.astimezone(BEIJING)


DAYTIME_START, DAYTIME_END = time(8), time(18)  # Art. 14 白天时段: [08:00, 18:00)
WORKING_DAY_REPLY = timedelta(hours=2)  # Art. 14: counted in working-day daytime only
DAY_OFF_REPLY = timedelta(hours=6)  # Art. 14: offline consultations on a non-working day

# Years whose notice the package has transcribed. Every notice since 2001 moves at least one day, so
# each has an entry here; a year without one has only the package's rule-based guess (statutory
# festivals plus in-lieu weekdays, no make-up weekend days).
_NOTICE_YEARS = frozenset(getattr(ChinaStaticHolidays, "special_public_holidays", {}))


class WorkCalendar:
    """Mainland China's working days (statutory holidays and 调休), with staff corrections on top."""

    def __init__(self, corrections: Mapping[date, bool] | None = None):
        """`corrections` maps a day to True (working day) or False (day off); they beat the package."""
        self.corrections = dict(corrections or {})
        self._official = holidays.country_holidays("CN")  # fills in each year on first use

    def is_working_day(self, day: date) -> bool:
        if day in self.corrections:
            return self.corrections[day]
        return self._official.is_working_day(day)

    def add_working_days(self, start: date, n: int) -> date:
        """The day `n` working days after `start`, not counting `start` itself; `start` when n is 0."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; 0 when `end` is not after `start`."""
        return sum(self.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))

    def knows_year(self, year: int) -> bool:
        """Whether the package carries the State Council's notice for `year` (corrections aside).

        Not "lists any holiday in `year`": the package computes the statutory festivals for every year
        up to 2100, notice or not. A year is known when the notice's substituted days are transcribed.
        """
        return year in _NOTICE_YEARS

    def reply_deadline(self, asked_at: datetime) -> datetime:
        """Art. 14: when a consultation asked at `asked_at` (timezone-aware) is due, in Beijing time.

        "客服人员工作日白天时段（上午8:00-下午18:00）在线客服响应时间平均不大于2小时；非工作日白天时段产生的
        离线咨询回复时间不超过6个小时。" Our reading:
        - The clock starts at `asked_at` in daytime (08:00–18:00), or, asked at night, at the next 08:00
          (the article sets no time for night questions; they are answered as if asked next morning).
        - The day the clock starts on sets the allowance. On a working day: 2 hours counted in
          working-day daytime only, the article's "工作日白天时段" (asked Friday 17:00, due 09:00 on the
          next working day).
        - On a day off: 6 hours as the clock runs. The article places the question in the day off's
          daytime ("白天时段产生的") but not the reply: 回复时间 is plain hours. A question on Saturday at
          15:00 is due on Saturday at 21:00, one at 17:59 by 23:59.
        """
        start = _clock_start(_aware(asked_at).astimezone(BEIJING))
        if self.is_working_day(start.date()):
            return _run_clock(start, WORKING_DAY_REPLY, self.is_working_day)
        return start + DAY_OFF_REPLY

    def allowance(self, asked_at: datetime) -> timedelta:
        """Art. 14: 2 hours when the clock starts on a working day, 6 when it starts on a day off."""
        start = _clock_start(_aware(asked_at).astimezone(BEIJING))
        return WORKING_DAY_REPLY if self.is_working_day(start.date()) else DAY_OFF_REPLY

    def response_time(self, asked_at: datetime, replied_at: datetime) -> timedelta:
        """Art. 14: how long the first reply took, counted as the deadline counts (see reply_deadline):
        working-day daytime for a clock that starts on a working day, plain time for one that starts on a
        day off; zero for a reply before the clock starts (a night question answered at once)."""
        start = _clock_start(_aware(asked_at).astimezone(BEIJING))
        end = _aware(replied_at).astimezone(BEIJING)
        if end <= start:
            return timedelta()
        if self.is_working_day(start.date()):
            return _daytime_between(start, end, self.is_working_day)
        return end - start


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment


def _daytime(day: date, at: time) -> datetime:
    return datetime.combine(day, at, BEIJING)


def _clock_start(at: datetime) -> datetime:
    """`at` in daytime, else the next 08:00 (Beijing time)."""
    if at.time() < DAYTIME_START:
        return _daytime(at.date(), DAYTIME_START)
    if at.time() >= DAYTIME_END:
        return _daytime(at.date() + timedelta(days=1), DAYTIME_START)
    return at


def _run_clock(start: datetime, allowance: timedelta, counts: Callable[[date], bool]) -> datetime:
    """Spend `allowance` from `start` (in daytime) in the daytime of days for which `counts` is true."""
    at = start
    while True:
        if counts(at.date()):
            closes = _daytime(at.date(), DAYTIME_END)
            if at + allowance <= closes:
                return at + allowance
            allowance -= closes - at
        at = _daytime(at.date() + timedelta(days=1), DAYTIME_START)


def _daytime_between(start: datetime, end: datetime, counts: Callable[[date], bool]) -> timedelta:
    """Daytime from `start` to `end` on the days for which `counts` is true."""
    spent, day = timedelta(), start.date()
    while day <= end.date():
        if counts(day):
            opens = max(start, _daytime(day, DAYTIME_START))
            closes = min(end, _daytime(day, DAYTIME_END))
            spent += max(closes - opens, timedelta())
        day += timedelta(days=1)
    return spent
