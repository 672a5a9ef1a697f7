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
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date

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
