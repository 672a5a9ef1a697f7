"""Assessment cycles (考核周期, Art. 16).

Art. 16: "线上平台管理单位按照一个考核周期（12个月）对入驻机构开展考核……入驻机构自服务开通之日起有6个
月的适应期". Our reading: the first cycle starts 6 calendar months after the service-opening date
(入驻日期, the approval date) and lasts 12 calendar months; each next cycle starts where the last ended.
Every boundary is counted from the opening date itself (opening + 6 + 12·k months), not from the previous
boundary, so a short month never shifts later cycles: opened 31 August, the first cycle starts on the
last day of February (28th or 29th), and the next one on the last day of the next February. A cycle is
the half-open range [start, end): it ends the day before `end`, and it "has ended" on `end`.

An institution hidden during a cycle is still admitted: the cycle runs and is assessed (hiding is a
sanction, not a pause). One that withdrew, was expelled or removed before a cycle ended has no
assessment for that cycle: there is no listed institution left to assess.

The score sheet (Annex 2, words in qzt/data/score_sheet.py): ten items, each deducted whole or not at all;
the score is 100 minus the deductions and not below 0 (they add up to 110); 60 or more passes. Each item
is prefilled from the cycle's records; our readings, item by item:
1. A credit record (行政处罚, 经营异常名录, 严重违法失信名单, other violation) dated within the three years
   up to the cycle's last day (qzt.rules.supervision.credit_counts_for_item1).
2. More than 3 complaints filed within the cycle and found 属实 (qzt.rules.complaints).
3. The introduction is not complete by the upkeep rule (qzt.rules.upkeep: at least 20 characters) when
   the assessment opens: the homepage keeps no history, and a gap mended before the cycle ended counts
   as mended.
4. No qualification certificate in force on the cycle's last day, where one is needed (qzt.rules.upkeep:
   not for an institution whose featured items are all in Art. 8's categories without a certificate).
5. The featured service items fail the completeness check (2 to 3, each with its content). Whether they
   are written "to the norm" is a judgement: the operator confirms it.
6. Fewer than 10 case reports submitted within the cycle (Annex 2 item 6: "每年…不少于10个").
7. Fewer than 1 agent: none when the assessment opens, or the institution was hidden within the cycle
   by Art. 17's one-month rule for want of an agent (the one record of a period without one).
8. Replies not timely (Art. 14): the average response time of the questions whose clock started on a
   working day is above 2 hours, or a question whose clock started on a day off was answered after its 6
   hours (or not at all by the cycle's end). Each response time counts as the rule counts it
   (qzt.rules.calendar); a question never answered counts until the cycle's end.
9. Valid orders (deals confirmed by the enterprise) confirmed within the cycle below note 2's threshold;
   cycle n is note 2's n-th year ("第一年" is the first assessed year, after the adaptation period), and
   an institution with items in both groups meets the stricter one (qzt.rules.orders).
10. A negative-review follow-up of a rating given within the cycle ended 不满意.
"""

from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from qzt.data import score_sheet
from qzt.rules.calendar import WORKING_DAY_REPLY, WorkCalendar

GRACE_MONTHS = 6
CYCLE_MONTHS = 12


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day where it has no such day (31 Aug + 6 → 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


@dataclass(frozen=True)
class Cycle:
    number: int  # 1 for the first cycle after the adaptation period
    start: date
    end: date  # exclusive: the first day of the next cycle

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)


def cycle(opened_on: date, number: int) -> Cycle:
    """Cycle `number` (1, 2, …) of an institution opened on `opened_on`."""
    if number < 1:
        raise ValueError("cycles are numbered from 1")
    first = GRACE_MONTHS + CYCLE_MONTHS * (number - 1)
    return Cycle(number, add_months(opened_on, first), add_months(opened_on, first + CYCLE_MONTHS))


def current_cycle(opened_on: date, today: date) -> Cycle | None:
    """The cycle `today` falls in; None during the adaptation period."""
    number = 1
    while True:
        c = cycle(opened_on, number)
        if today < c.start:
            return None
        if today < c.end:
            return c
        number += 1


def ended_cycles(opened_on: date, today: date, left_on: date | None = None) -> list[Cycle]:
    """The cycles that have ended by `today` (end ≤ today); with `left_on` (withdrawn, expelled or
    removed), only those that ended on or before that day."""
    cycles = []
    number = 1
    while (c := cycle(opened_on, number)).end <= today:
        if left_on is not None and c.end > left_on:
            break
        cycles.append(c)
        number += 1
    return cycles


# --- the score sheet ---

FULL_SCORE = 100
PASS_SCORE = 60


@dataclass(frozen=True)
class Item:
    number: int
    content: str  # 考核内容, as printed
    deduction: int  # 扣分

    @property
    def requirement(self) -> str:
        """扣分要求, as printed."""
        return f"扣{self.deduction}分"


ITEMS = tuple(Item(*row) for row in score_sheet.ITEMS)
ITEM_NUMBERS = tuple(item.number for item in ITEMS)
_DEDUCTIONS = {item.number: item.deduction for item in ITEMS}


def score(deducted: Iterable[int]) -> int:
    """机构得分: 100 minus the deductions of the items numbered in `deducted`, not below 0."""
    return max(0, FULL_SCORE - sum(_DEDUCTIONS[n] for n in set(deducted)))


def passed(points: int) -> bool:
    """Note 1: "考核满分为100分，合格为60分"."""
    return points >= PASS_SCORE


def result_label(points: int) -> str:
    return "合格" if passed(points) else "不合格"


def replies_not_timely(working_day_responses: list[timedelta], day_off_late: int) -> bool:
    """Item 8 (Art. 14): the working-day average above 2 hours, or any day-off question answered late."""
    if day_off_late:
        return True
    if not working_day_responses:
        return False
    return sum(working_day_responses, timedelta()) / len(working_day_responses) > WORKING_DAY_REPLY


# --- the annual self-summary (年度服务总结, Art. 16) ---

SUMMARY_WORKING_DAYS_AFTER = 15


def summary_window(c: Cycle, calendar: WorkCalendar) -> tuple[date, date]:
    """The days (both included) an institution may upload the cycle's 年度服务总结: from the first day of
    the cycle's last month (its end one month back) to the 15th working day after its last day."""
    return add_months(c.end, -1), calendar.add_working_days(c.last_day, SUMMARY_WORKING_DAYS_AFTER)
