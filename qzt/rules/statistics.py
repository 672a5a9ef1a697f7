"""What the staff's statistics count, and how (数据统计, Art. 15–16).

- Periods are calendar months in Beijing time: a record belongs to the month in which it happened as a
  Beijing clock shows it (a question asked at 00:30 on 1 March Beijing time is a March question).
- The default period is the last twelve months up to and including the current one; a year is its
  twelve months.
- Art. 14 compliance: a consultation is 按时 when its first reply came by its Art. 14 deadline, 超时 when
  it came later or has not come and the deadline has passed, and 待答复 while the deadline is still
  ahead. The rate is 按时 ÷ (按时 + 超时): questions still within their time are not judged yet.
- A valid order (有效订单, Annex 2 note 2) counts in the month the enterprise confirmed the deal.
- An assessment counts in the overview once the authority has confirmed it; until then it is pending.
"""

from dataclasses import dataclass
from datetime import date

from qzt.rules.assessment import add_months


@dataclass(frozen=True)
class Period:
    first: date  # the first day of the first month
    end: date  # exclusive: the first day after the last month

    @property
    def months(self) -> list[date]:
        """The first day of each month in the period."""
        months, month = [], self.first
        while month < self.end:
            months.append(month)
            month = add_months(month, 1)
        return months

    @property
    def label(self) -> str:
        last = add_months(self.end, -1)
        if self.first.month == 1 and last.month == 12 and self.first.year == last.year:
            return f"{self.first.year}年"
        return f"{self.first:%Y年%m月}至{last:%Y年%m月}"


def last_twelve_months(today: date) -> Period:
    """The twelve months up to and including today's."""
    end = add_months(today.replace(day=1), 1)
    return Period(add_months(end, -12), end)


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number + 1, 1, 1))


def month_label(first: date) -> str:
    return f"{first.year}年{first.month}月"


def rate(part: int, whole: int) -> float | None:
    """part ÷ whole, or None when there is nothing to divide (shown as —, never as 0%)."""
    return part / whole if whole else None


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


# The overview's score bands, highest first; every score 0–100 falls in exactly one.
SCORE_BANDS: tuple[tuple[int, int, str], ...] = (
    (90, 100, "90–100分"),
    (80, 89, "80–89分"),
    (70, 79, "70–79分"),
    (60, 69, "60–69分"),
    (0, 59, "60分以下（不合格）"),
)


def score_band(score: int) -> str:
    for low, high, label in SCORE_BANDS:
        if low <= score <= high:
            return label
    raise ValueError(f"score {score} is outside 0–100")
